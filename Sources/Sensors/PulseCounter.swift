import Hardware
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counts debounced edges on a GPIO input: a tipping-bucket rain gauge
/// (each tip is `factor` mm of rain) or a cup anemometer (each pulse per
/// second is `factor` m/s of wind). It owns no thread: each read takes the
/// line's pending events, and the runtime's `GPIOEdgeWatcher` hands it the
/// events between reads, because the kernel keeps only 16 per line and an
/// anemometer in a storm gives more than that between two reads.
public final class PulseCounter: Sensor, GPIOEdgeSubscriber {
    public enum Kind: String, Sendable {
        /// Reading: `precipitation` in mm since the previous read.
        case rainGauge = "rain-gauge"
        /// Reading: `wind_speed` in m/s, averaged since the previous read.
        case anemometer
        /// Reading: `count` of pulses since the previous read.
        case counter = "pulse-counter"

        /// Common defaults: 0.2794 mm per tip and 2.4 km/h (0.667 m/s) per
        /// Hz are the SparkFun/Argent weather meters' datasheet figures.
        public var defaultFactor: Double {
            switch self {
            case .rainGauge: return 0.2794
            case .anemometer: return 2.4 / 3.6
            case .counter: return 1
            }
        }

        /// The plausible range of one reading (flagged outside it): 300 mm
        /// between reads is more than any recorded hourly rainfall; 113 m/s
        /// is beyond the highest gust ever measured.
        var plausible: ClosedRange<Double> {
            switch self {
            case .rainGauge: return 0...300
            case .anemometer: return 0...113
            case .counter: return 0...Double.greatestFiniteMagnitude
            }
        }
    }

    public let name: String
    public let kind: Kind
    public var driver: String { kind.rawValue }
    public let factor: Double
    private let line: any GPIOInputLine
    private let watcher: GPIOEdgeWatcher?
    private let monotonicNanoseconds: @Sendable () -> UInt64
    /// Reads of the line per drain, at most: a wait hands out
    /// `GPIOEdgeEvent.maximumPerWait` events, and a line that never runs dry must not hold the counter.
    static let drainLimit = 8

    private struct State {
        var debouncer: Debouncer
        var pulses = 0
        var total = 0
        var lastRead: UInt64
        var failure: GPIOError?
        var closed = false
    }
    private let state: Mutex<State>

    /// `line` must be requested with the edge to count (falling for a reed
    /// switch to ground with a pull-up). `debounceMilliseconds`: edges closer
    /// than this to the last counted one are contact bounce. `watcher`: what
    /// drains the line between reads (the runtime's; nil: only reads do).
    public init(name: String, kind: Kind, line: any GPIOInputLine, factor: Double? = nil, debounceMilliseconds: Double = 10,
                watcher: GPIOEdgeWatcher? = nil, monotonicNanoseconds: @escaping @Sendable () -> UInt64 = PulseCounter.monotonicNow) {
        self.name = name
        self.kind = kind
        self.line = line
        self.factor = factor ?? kind.defaultFactor
        self.watcher = watcher
        self.monotonicNanoseconds = monotonicNanoseconds
        state = Mutex(State(debouncer: Debouncer(milliseconds: debounceMilliseconds), lastRead: monotonicNanoseconds()))
        watcher?.watch(self)
    }

    deinit {
        watcher?.unwatch(ObjectIdentifier(self))
        line.release()
    }

    public static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Pulses counted since the counter was made.
    public var totalPulses: Int { state.withLock { $0.total } }

    public var edgeFileDescriptor: Int32? {
        guard state.withLock({ $0.failure == nil && !$0.closed }), let pollable = line as? any GPIOPollableLine else { return nil }
        let descriptor = pollable.eventFileDescriptor
        return descriptor >= 0 ? descriptor : nil
    }

    /// Takes the line's pending events and counts those that survive the
    /// debounce. Under the counter's lock, so the watcher and a read never
    /// hand the debouncer two batches out of order.
    public func drainPendingEdges() {
        state.withLock { state in
            guard !state.closed else { return }
            do throws(GPIOError) {
                for _ in 0..<Self.drainLimit {
                    let events = try line.waitForEvents(timeoutMilliseconds: 0)
                    for event in events where state.debouncer.accept(event.timestampNanoseconds) {
                        state.pulses += 1
                        state.total += 1
                    }
                    if events.count < GPIOEdgeEvent.maximumPerWait { break }
                }
                state.failure = nil
            } catch {
                state.failure = error
            }
        }
    }

    /// Stops being watched and releases the line.
    public func close() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        watcher?.unwatch(ObjectIdentifier(self))
        line.release()
    }

    public func read() throws(SensorError) -> [SensorReading] {
        drainPendingEdges()
        let now = monotonicNanoseconds()
        let taken = state.withLock { state -> (pulses: Int, seconds: Double, failure: GPIOError?) in
            defer {
                state.pulses = 0
                state.lastRead = now
            }
            return (state.pulses, Double(now &- state.lastRead) / 1e9, state.failure)
        }
        if let failure = taken.failure {
            throw SensorError(code: .gpio, message: "\(name) (\(driver)): \(failure)")
        }
        let value: Double
        let reading: (quantity: String, unit: String)
        switch kind {
        case .rainGauge:
            value = Double(taken.pulses) * factor
            reading = ("precipitation", "mm")
        case .anemometer:
            value = taken.seconds > 0 ? Double(taken.pulses) / taken.seconds * factor : 0
            reading = ("wind_speed", "m/s")
        case .counter:
            value = Double(taken.pulses)
            reading = ("count", "1")
        }
        return [SensorReading(quantity: reading.quantity, value: value, unit: reading.unit, outOfRange: !kind.plausible.contains(value))]
    }
}
