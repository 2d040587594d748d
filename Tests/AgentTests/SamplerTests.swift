import Foundation
@testable import Agent
import Clocks
import Testing
import Wire
import Synchronization

struct CountingSensor: SampledSensor {
    let name: String
    let driver = "test"
    let interval: Duration
    let counter = Counter()
    var fails = false

    final class Counter: Sendable {
        private let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
        var value: Int { count.withLock { $0 } }
    }

    func sample() async -> SensorOutcome {
        let n = counter.next()
        if fails { return .failure(code: "no-ack", message: "no acknowledge from 0x76 on /dev/i2c-1") }
        return .readings([Telemetry.Reading(sensor: name, quantity: "count", value: Double(n), unit: "1")])
    }
}

@Suite struct SamplerTests {
    @Test func sensorsRunOnTheirOwnIntervalsAndShareTicks() async throws {
        let fast = CountingSensor(name: "fast", interval: .milliseconds(100))
        let slow = CountingSensor(name: "slow", interval: .milliseconds(300))
        let clock = ImmediateClock()
        let start = clock.now
        let sampler = Sampler(sensors: [fast, slow], clock: clock)
        var ticks: [[String]] = []
        var times: [Duration] = []
        for _ in 0..<7 {
            ticks.append(try await sampler.nextTick().map(\.sensor.name))
            times.append(start.duration(to: clock.now))
        }
        // t=0: both; 100, 200: fast; 300: both; 400, 500: fast; 600: both.
        #expect(ticks == [["fast", "slow"], ["fast"], ["fast"], ["fast", "slow"], ["fast"], ["fast"], ["fast", "slow"]])
        #expect(times == (0..<7).map { .milliseconds(100 * $0) })
    }

    @Test func aFailingSensorDoesNotStopTheOthers() async throws {
        let good = CountingSensor(name: "good", interval: .milliseconds(20))
        let bad = CountingSensor(name: "bad", interval: .milliseconds(20), fails: true)
        let sampler = Sampler(sensors: [bad, good], clock: ImmediateClock())
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
            let clock: ImmediateClock<Duration>
            func sample() async -> SensorOutcome {
                try? await clock.sleep(for: .milliseconds(45)) // a read that takes 45 ms
                return .readings([])
            }
        }
        let clock = ImmediateClock()
        let start = clock.now
        let sampler = Sampler(sensors: [Slow(clock: clock)], clock: clock)
        _ = try await sampler.nextTick()
        #expect(sampler.skippedSlots == 4, "slots at 10, 20, 30, 40 ms were missed")
        #expect(sampler.nextDue.map { start.duration(to: $0) } == .milliseconds(50))
        _ = try await sampler.nextTick(wakeBy: clock.now.advanced(by: .milliseconds(1)))
        #expect(start.duration(to: clock.now) == .milliseconds(46), "woke for the watchdog before the next slot")
    }
}
