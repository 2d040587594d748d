/// Runs each sensor on its own interval and groups the sensors that fall
/// due together into one tick (one Telemetry message).
///
/// Due times advance by whole intervals from the start, so sampling does
/// not drift; a sensor that fell more than an interval behind (a slow bus,
/// a suspended board) skips the missed slots instead of reading in a burst.
///
/// Time is injected (`clock`), so tests of scheduling run on virtual time.
public final class Sampler<C: Clock> where C.Duration == Duration {
    public struct Result {
        public var sensor: any SampledSensor
        public var outcome: SensorOutcome
        public var at: C.Instant
    }

    private let clock: C
    private var slots: [(sensor: any SampledSensor, due: C.Instant)]
    /// Sensors due within this much of the earliest one join its tick.
    private let grouping: Duration
    public private(set) var skippedSlots: UInt64 = 0

    public init(sensors: [any SampledSensor], clock: C, grouping: Duration = .milliseconds(20)) {
        self.clock = clock
        let start = clock.now
        slots = sensors.map { ($0, start) }
        self.grouping = grouping
    }

    public var isEmpty: Bool { slots.isEmpty }

    /// When the next tick is due (nil without sensors).
    public var nextDue: C.Instant? { slots.map(\.due).min() }

    /// Sleeps until the next tick, reads every sensor due in it, and
    /// returns their outcomes; returns no results when `wakeBy` comes first
    /// (the daemon's loop wakes regularly to prove it is alive). Throws when
    /// the task is cancelled.
    public func nextTick(wakeBy: C.Instant? = nil) async throws -> [Result] {
        guard let earliest = nextDue else {
            try await clock.sleep(until: wakeBy ?? clock.now.advanced(by: .seconds(3600)), tolerance: nil)
            return []
        }
        if let wakeBy, wakeBy < earliest {
            try await clock.sleep(until: wakeBy, tolerance: nil)
            return []
        }
        try await clock.sleep(until: earliest, tolerance: nil)
        var results: [Result] = []
        let now = clock.now
        for index in slots.indices where slots[index].due <= earliest.advanced(by: grouping) || slots[index].due <= now {
            let sensor = slots[index].sensor
            let outcome = await sensor.sample()
            results.append(Result(sensor: sensor, outcome: outcome, at: clock.now))
            var due = slots[index].due.advanced(by: sensor.interval)
            let after = clock.now
            // Behind by a whole interval or more: skip to the next slot in the future.
            while due <= after {
                due = due.advanced(by: sensor.interval)
                skippedSlots += 1
            }
            slots[index].due = due
        }
        return results
    }
}
