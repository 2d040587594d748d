/// Runs each sensor on its own interval and groups the sensors that fall
/// due together into one tick (one Telemetry message).
///
/// Due times advance by whole intervals from the start, so sampling does
/// not drift; a sensor that fell more than an interval behind (a slow bus,
/// a suspended board) skips the missed slots instead of reading in a burst.
public final class Sampler {
    public struct Result: Sendable {
        public var sensor: any SampledSensor
        public var outcome: SensorOutcome
        public var at: ContinuousClock.Instant
    }

    private var slots: [(sensor: any SampledSensor, due: ContinuousClock.Instant)]
    /// Sensors due within this much of the earliest one join its tick.
    private let grouping: Duration
    public private(set) var skippedSlots: UInt64 = 0

    public init(sensors: [any SampledSensor], start: ContinuousClock.Instant = .now, grouping: Duration = .milliseconds(20)) {
        slots = sensors.map { ($0, start) }
        self.grouping = grouping
    }

    public var isEmpty: Bool { slots.isEmpty }

    /// When the next tick is due (nil without sensors).
    public var nextDue: ContinuousClock.Instant? { slots.map(\.due).min() }

    /// Sleeps until the next tick, reads every sensor due in it, and
    /// returns their outcomes; returns no results when `wakeBy` comes first
    /// (the daemon's loop wakes regularly to prove it is alive). Throws when
    /// the task is cancelled.
    public func nextTick(wakeBy: ContinuousClock.Instant? = nil) async throws -> [Result] {
        guard let earliest = nextDue else {
            try await Task.sleep(until: wakeBy ?? .now + .seconds(3600), clock: .continuous)
            return []
        }
        if let wakeBy, wakeBy < earliest {
            try await Task.sleep(until: wakeBy, clock: .continuous)
            return []
        }
        try await Task.sleep(until: earliest, clock: .continuous)
        var results: [Result] = []
        let now = ContinuousClock.now
        for index in slots.indices where slots[index].due <= earliest + grouping || slots[index].due <= now {
            let sensor = slots[index].sensor
            let outcome = await sensor.sample()
            results.append(Result(sensor: sensor, outcome: outcome, at: ContinuousClock.now))
            var due = slots[index].due + sensor.interval
            let after = ContinuousClock.now
            if due <= after {
                // Behind by a whole interval or more: skip to the next slot in the future.
                while due <= after {
                    due += sensor.interval
                    skippedSlots += 1
                }
            }
            slots[index].due = due
        }
        return results
    }
}
