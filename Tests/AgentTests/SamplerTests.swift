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

/// A sensor whose read takes `takes` on the test clock.
struct TimedSensor: SampledSensor {
    let name: String
    let driver = "test"
    let interval: Duration
    let takes: Duration
    let clock: TestClock<Duration>
    let counter = CountingSensor.Counter()

    func sample() async -> SensorOutcome {
        let n = counter.next()
        try? await clock.sleep(for: takes)
        return .readings([Telemetry.Reading(sensor: name, quantity: "count", value: Double(n), unit: "1")])
    }
}

/// Collects the batches a sampler hands over, with the virtual time of each.
final class BatchLog: Sendable {
    private let entries = Mutex<[(at: Duration, sensors: [String])]>([])
    func append(at: Duration, sensors: [String]) { entries.withLock { $0.append((at, sensors)) } }
    var all: [(at: Duration, sensors: [String])] { entries.withLock { $0 } }
}

/// Lets started tasks reach their first sleep.
func yieldABit() async {
    for _ in 0..<200 { await Task.yield() }
}

@Suite struct SamplerTests {
    /// Runs `sampler` and its consumer on `clock` for `total`, in `step`s.
    func run(_ sampler: Sampler<TestClock<Duration>>, on clock: TestClock<Duration>, for total: Duration,
             step: Duration = .milliseconds(5), beforeStopping: () -> Void = {}) async -> BatchLog {
        let log = BatchLog()
        let start = clock.now
        let sampling = Task { await sampler.run() }
        let consuming = Task {
            while let batch = try? await sampler.nextBatch() {
                if !batch.isEmpty { log.append(at: start.duration(to: clock.now), sensors: batch.map(\.sensor.name)) }
            }
        }
        await yieldABit()
        var elapsed = Duration.zero
        while elapsed < total {
            await clock.advance(by: step)
            await yieldABit()
            elapsed += step
        }
        beforeStopping()
        sampling.cancel()
        consuming.cancel()
        await sampling.value
        await consuming.value
        return log
    }

    @Test func sensorsRunOnTheirOwnIntervalsAndShareBatches() async throws {
        let clock = TestClock()
        let fast = TimedSensor(name: "fast", interval: .milliseconds(100), takes: .milliseconds(2), clock: clock)
        let slow = TimedSensor(name: "slow", interval: .milliseconds(300), takes: .milliseconds(5), clock: clock)
        let sampler = Sampler(sensors: [fast, slow], clock: clock)
        let log = await run(sampler, on: clock, for: .milliseconds(650))
        // Batches close 20 ms after the first reading of a slot came in (at +2 ms).
        #expect(log.all.map(\.sensors) == [["fast", "slow"], ["fast"], ["fast"], ["fast", "slow"], ["fast"], ["fast"], ["fast", "slow"]])
        // (A step later when a loaded machine let a task reach its sleep after the advance meant for it.)
        let late = zip(log.all.map(\.at), (0..<7).map { Duration.milliseconds(100 * $0 + 22) }).filter { !($1...$1 + .milliseconds(10)).contains($0) }
        #expect(late.isEmpty, "\(log.all)")
        #expect(fast.counter.value == 7 && slow.counter.value == 3)
    }

    @Test func aFailingSensorDoesNotStopTheOthers() async throws {
        let good = CountingSensor(name: "good", interval: .seconds(1))
        let bad = CountingSensor(name: "bad", interval: .seconds(1), fails: true)
        let clock = TestClock()
        let sampler = Sampler(sensors: [bad, good], clock: clock)
        let sampling = Task { await sampler.run() }
        defer { sampling.cancel() }
        let batch = Task { try await sampler.nextBatch() }
        await yieldABit()
        await clock.advance(by: .milliseconds(20))
        let results = try await batch.value
        #expect(results.count == 2)
        #expect(results.first { $0.sensor.name == "bad" }?.outcome == .failure(code: "no-ack", message: "no acknowledge from 0x76 on /dev/i2c-1"))
        if case let .readings(readings) = results.first(where: { $0.sensor.name == "good" })?.outcome {
            #expect(readings.first?.value == 1)
        } else {
            Issue.record("the good sensor must still be read")
        }
    }

    /// A BH1750-like read of 180 ms beside a sensor read every 50 ms: the
    /// fast one keeps all its slots, the slow one is read as often as it can
    /// be (every 200 ms), is reported once as behind, with its real rate.
    @Test func aSlowSensorNeverDelaysAFastOne() async throws {
        let clock = TestClock()
        let fast = TimedSensor(name: "fast", interval: .milliseconds(50), takes: .milliseconds(1), clock: clock)
        let slow = TimedSensor(name: "slow", interval: .milliseconds(50), takes: .milliseconds(180), clock: clock)
        let sampler = Sampler(sensors: [slow, fast], clock: clock)
        let log = await run(sampler, on: clock, for: .milliseconds(1000))
        #expect(fast.counter.value == 21, "a read at 0, 50, …, 1000 ms: none late for the slow one")
        #expect(slow.counter.value == 6, "read at 0, 200, …, 1000 ms: its 50, 100, 150 ms slots skipped each time")
        let paces = sampler.paces
        #expect(paces[0].behind && abs((paces[0].readsPerSecond ?? 0) - 5) < 1e-9 && paces[0].lastReadDuration == .milliseconds(180))
        #expect(paces[0].skippedSlots == 15)
        #expect(!paces[1].behind && abs((paces[1].readsPerSecond ?? 0) - 20) < 1e-9 && paces[1].skippedSlots == 0)
        let lags = sampler.takeLags()
        #expect(lags.map(\.sensor.name) == ["slow"], "reported once")
        #expect(lags.first?.period == .milliseconds(200), "read every fourth 50 ms slot")
        #expect(sampler.takeLags().isEmpty)
        // Every fast slot went out within the grouping window of its read.
        let fastBatches = log.all.filter { $0.sensors.contains("fast") }
        #expect(fastBatches.count == 20, "the read at 1000 ms is still in its grouping window")
        // 21 ms after each slot, or a step later when a loaded machine let a
        // task reach its sleep after the advance meant for it.
        #expect(fastBatches.allSatisfy { (21...31).contains(($0.at.components.attoseconds / 1_000_000_000_000_000) % 50) }, "\(log.all)")
    }

    /// Batches taken late (a slow disk under the spool) hold one reading
    /// per sensor: the second waits for the next batch, as a message has one time.
    @Test(.timeLimit(.minutes(1))) func aBatchHoldsOneReadingPerSensor() async throws {
        let clock = TestClock()
        let fast = TimedSensor(name: "fast", interval: .milliseconds(10), takes: .milliseconds(1), clock: clock)
        let sampler = Sampler(sensors: [fast], clock: clock)
        let sampling = Task { await sampler.run() }
        defer { sampling.cancel() }
        await yieldABit()
        // Nobody takes a batch for 45 ms: five readings wait.
        for _ in 0..<9 {
            await clock.advance(by: .milliseconds(5))
            await yieldABit()
        }
        sampling.cancel()
        await sampling.value
        var values: [[Double]] = []
        for _ in 0..<5 {
            let batch = Task { try await sampler.nextBatch() }
            await yieldABit()
            await clock.advance(by: .milliseconds(20))
            values.append(try await batch.value.flatMap { result -> [Double] in
                if case let .readings(readings) = result.outcome { return readings.map(\.value) } else { return [] }
            })
        }
        #expect(values == [[1], [2], [3], [4], [5]])
    }

    /// A read that never returns (a hung bus) is named, so the daemon stops
    /// feeding systemd's watchdog; the other sensors go on.
    @Test func aHungReadIsReportedAsStalled() async throws {
        let clock = TestClock()
        let hung = TimedSensor(name: "hung", interval: .seconds(1), takes: .seconds(3600), clock: clock)
        let fast = TimedSensor(name: "fast", interval: .milliseconds(100), takes: .milliseconds(1), clock: clock)
        let sampler = Sampler(sensors: [hung, fast], clock: clock)
        _ = await run(sampler, on: clock, for: .seconds(2), step: .milliseconds(50)) {
            #expect(sampler.stalled(longerThan: .seconds(1)) == ["hung"])
            #expect(sampler.stalled(longerThan: .seconds(3)).isEmpty)
        }
        #expect(fast.counter.value == 21)
    }
}
