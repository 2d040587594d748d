import Synchronization

/// Runs each sensor on its own task and interval, and hands the readings
/// that came in together over as one batch (one Telemetry message).
///
/// Each sensor has its own loop, so a slow conversion (a BH1750's 180 ms,
/// a BME680's heater) never delays another sensor's slot: the sensors are
/// read at once, not one after another. Due times advance by whole
/// intervals from the start, so sampling does not drift; a sensor whose
/// read took longer than its interval skips the missed slots instead of
/// reading in a burst, and is marked as not keeping its interval, with the
/// rate it really reads at (`Pace`).
///
/// Time is injected (`clock`), so tests of scheduling run on virtual time.
public final class Sampler<C: Clock>: Sendable where C.Duration == Duration {
    public struct Result: Sendable {
        public var sensor: any SampledSensor
        public var outcome: SensorOutcome
        public var at: C.Instant
    }

    /// How a sensor keeps its interval.
    public struct Pace: Equatable, Sendable {
        public var interval: Duration
        /// Reads started per second over the last few reads (nil before two).
        public var readsPerSecond: Double?
        /// Its last read took longer than its interval (slots were skipped).
        public var behind: Bool
        public var skippedSlots: UInt64
        /// How long its last read took.
        public var lastReadDuration: Duration?
    }

    /// A sensor that fell behind its interval for the first time.
    public struct Lag: Sendable {
        public var sensor: any SampledSensor
        public var pace: Pace
        /// How often it is read now: its interval times the slots one read takes.
        public var period: Duration
    }

    private struct Slot {
        var pace: Pace
        /// When the recent reads started, oldest first (for the rate).
        var starts: [C.Instant] = []
        /// Set while a read is under way.
        var readingSince: C.Instant?
        var lagReported = false
    }

    private struct State {
        var slots: [Slot]
        var pending: [(index: Int, result: Result)] = []
        var lags: [Lag] = []
    }

    /// Reads kept for the rate.
    private static var rateWindow: Int { 8 }

    private let clock: C
    private let sensors: [any SampledSensor]
    /// Readings that come in within this much of the first one join its batch.
    private let grouping: Duration
    private let state: Mutex<State>
    private let doorbell = Doorbell()

    public init(sensors: [any SampledSensor], clock: C, grouping: Duration = .milliseconds(20)) {
        self.clock = clock
        self.sensors = sensors
        self.grouping = grouping
        state = Mutex(State(slots: sensors.map { Slot(pace: Pace(interval: $0.interval, behind: false, skippedSlots: 0)) }))
    }

    public var isEmpty: Bool { sensors.isEmpty }

    /// Reads every sensor on its interval until the task is cancelled.
    public func run() async {
        let start = clock.now
        await withDiscardingTaskGroup { group in
            for index in sensors.indices {
                group.addTask { await self.sampleForever(index, from: start) }
            }
        }
    }

    /// Waits until readings came in (then a further `grouping` for others
    /// due with them) and returns them in the sensors' order; returns no
    /// results when woken by `wake()` with none. Throws when cancelled.
    public func nextBatch() async throws -> [Result] {
        while true {
            try await doorbell.wait()
            guard state.withLock({ !$0.pending.isEmpty }) else { return [] }
            try await clock.sleep(for: grouping, tolerance: nil)
            // One reading per sensor in a batch (a message has one time): a
            // second one, there when batches are taken late, waits for the next.
            let (batch, more) = state.withLock { state in
                var taken: [(index: Int, result: Result)] = [], rest: [(index: Int, result: Result)] = []
                var sensors = Set<Int>()
                for entry in state.pending {
                    if sensors.insert(entry.index).inserted { taken.append(entry) } else { rest.append(entry) }
                }
                state.pending = rest
                return (taken, !rest.isEmpty)
            }
            if more { doorbell.ring() }
            // A ring of an earlier reading whose batch already went.
            if batch.isEmpty { continue }
            return batch.sorted { $0.index < $1.index }.map(\.result)
        }
    }

    /// Ends a wait in `nextBatch` (the daemon wakes regularly to prove it is alive).
    public func wake() { doorbell.ring() }

    /// Each sensor's pace, in the sensors' order.
    public var paces: [Pace] { state.withLock { $0.slots.map(\.pace) } }

    public var skippedSlots: UInt64 { paces.reduce(0) { $0 + $1.skippedSlots } }

    /// Sensors that fell behind since the last call, each reported once.
    public func takeLags() -> [Lag] {
        state.withLock { state in
            defer { state.lags.removeAll() }
            return state.lags
        }
    }

    /// Sensors whose read has been under way for longer than `limit` (a
    /// hung bus): the watchdog is not fed while there are any.
    public func stalled(longerThan limit: Duration) -> [String] {
        let now = clock.now
        return state.withLock { state in
            state.slots.indices.compactMap { index in
                guard let since = state.slots[index].readingSince, since.duration(to: now) > limit else { return nil }
                return sensors[index].name
            }
        }
    }

    private func sampleForever(_ index: Int, from start: C.Instant) async {
        let sensor = sensors[index]
        var due = start
        while !Task.isCancelled {
            // A slot that is due already is read at once (the first one is due
            // at the start): no sleep, which a test clock would hold until
            // its next step.
            if due > clock.now {
                do { try await clock.sleep(until: due, tolerance: nil) } catch { return }
            }
            let began = clock.now
            state.withLock { $0.slots[index].readingSince = began }
            let outcome = await sensor.sample()
            // Stopping: nobody takes batches any more.
            if Task.isCancelled { return }
            let finished = clock.now
            due = due.advanced(by: sensor.interval)
            var skipped: UInt64 = 0
            // Behind by a whole interval or more: skip to the next slot in the future.
            while due <= finished {
                due = due.advanced(by: sensor.interval)
                skipped += 1
            }
            state.withLock { state in
                var slot = state.slots[index]
                slot.readingSince = nil
                slot.starts.append(began)
                if slot.starts.count > Self.rateWindow { slot.starts.removeFirst(slot.starts.count - Self.rateWindow) }
                if let first = slot.starts.first, let last = slot.starts.last, slot.starts.count > 1 {
                    let seconds = Self.seconds(first.duration(to: last))
                    slot.pace.readsPerSecond = seconds > 0 ? Double(slot.starts.count - 1) / seconds : nil
                }
                slot.pace.behind = skipped > 0
                slot.pace.skippedSlots += skipped
                slot.pace.lastReadDuration = began.duration(to: finished)
                if skipped > 0, !slot.lagReported {
                    slot.lagReported = true
                    state.lags.append(Lag(sensor: sensor, pace: slot.pace, period: sensor.interval * Int(skipped + 1)))
                }
                state.slots[index] = slot
                state.pending.append((index, Result(sensor: sensor, outcome: outcome, at: finished)))
            }
            doorbell.ring()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// One waiter, woken by `ring()`; a ring with nobody waiting is kept for
/// the next wait (several rings in a row count once).
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, any Error>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at a ring (or at once after an unheard one); throws when the task is cancelled.
    func wait() async throws {
        state.withLock { $0.cancelled = false }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> (any Error)?? in
                    if state.cancelled { return .some(CancellationError()) }
                    if state.rung {
                        state.rung = false
                        return .some(nil)
                    }
                    state.waiter = continuation
                    return nil
                }
                switch resumeNow {
                case .none: break
                case .some(.none): continuation.resume()
                case let .some(.some(error)): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
