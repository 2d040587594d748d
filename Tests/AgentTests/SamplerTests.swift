import Foundation
@testable import Agent
import Testing

struct CountingSensor: SampledSensor {
    let name: String
    let driver = "test"
    let interval: Duration
    let counter = Counter()
    var fails = false

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func next() -> Int { lock.withLock { count += 1; return count } }
        var value: Int { lock.withLock { count } }
    }

    func sample() async -> SensorOutcome {
        let n = counter.next()
        if fails { return .failure(code: "no-ack", message: "no acknowledge from 0x76 on /dev/i2c-1") }
        return .readings([SampledReading(sensor: name, quantity: "count", value: Double(n), unit: "1")])
    }
}

@Suite struct SamplerTests {
    @Test func sensorsRunOnTheirOwnIntervalsAndShareTicks() async throws {
        let fast = CountingSensor(name: "fast", interval: .milliseconds(100))
        let slow = CountingSensor(name: "slow", interval: .milliseconds(300))
        let sampler = Sampler(sensors: [fast, slow])
        var ticks: [[String]] = []
        for _ in 0..<7 {
            ticks.append(try await sampler.nextTick().map(\.sensor.name))
        }
        // t=0: both; 100, 200: fast; 300: both; 400, 500: fast; 600: both.
        // (Asserted loosely: a starved test process may wake a tick late,
        // and then a sensor due meanwhile rightly joins that tick.)
        #expect(ticks[0] == ["fast", "slow"])
        #expect(ticks.allSatisfy { $0.contains("fast") }, "the fast sensor is in every tick")
        #expect((2...4).contains(ticks.filter { $0.contains("slow") }.count), "\(ticks)")
        #expect(fast.counter.value == 7)
    }

    @Test func aFailingSensorDoesNotStopTheOthers() async throws {
        let good = CountingSensor(name: "good", interval: .milliseconds(20))
        let bad = CountingSensor(name: "bad", interval: .milliseconds(20), fails: true)
        let sampler = Sampler(sensors: [bad, good])
        let results = try await sampler.nextTick()
        #expect(results.count == 2)
        #expect(results.first { $0.sensor.name == "bad" }?.outcome == .failure(code: "no-ack", message: "no acknowledge from 0x76 on /dev/i2c-1"))
        if case let .readings(readings) = results.first(where: { $0.sensor.name == "good" })?.outcome {
            #expect(readings.first?.value == 1)
        } else {
            Issue.record("the good sensor must still be read")
        }
    }

    @Test func aSensorThatFellBehindSkipsMissedSlots() async throws {
        struct Slow: SampledSensor {
            let name = "slow"
            let driver = "test"
            let interval = Duration.milliseconds(10)
            func sample() async -> SensorOutcome {
                try? await Task.sleep(for: .milliseconds(45))
                return .readings([])
            }
        }
        let sampler = Sampler(sensors: [Slow()])
        _ = try await sampler.nextTick()
        #expect(sampler.skippedSlots >= 3)
        let next = try #require(sampler.nextDue)
        #expect(next > .now - .milliseconds(5))
    }
}
