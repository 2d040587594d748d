import Hardware
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counts debounced edges on a GPIO input: a tipping-bucket rain gauge
/// (each tip is `factor` mm of rain) or a cup anemometer (each pulse per
/// second is `factor` m/s of wind). A thread of its own collects edge events
/// as they come, because the kernel keeps only a few (16) per line and an
/// anemometer in a storm gives more than that between two reads.
public final class PulseCounter: Sensor {
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
    private let monotonicNanoseconds: @Sendable () -> UInt64

    private struct State {
        var debouncer: Debouncer
        var pulses = 0
        var total = 0
        var lastRead: UInt64
        var failure: GPIOError?
        var running = false
        var thread: pthread_t?
    }
    private let state: Mutex<State>

    /// `line` must be requested with the edge to count (falling for a reed
    /// switch to ground with a pull-up). `debounceMilliseconds`: edges closer
    /// than this to the last counted one are contact bounce.
    public init(name: String, kind: Kind, line: any GPIOInputLine, factor: Double? = nil, debounceMilliseconds: Double = 10,
                monotonicNanoseconds: @escaping @Sendable () -> UInt64 = PulseCounter.monotonicNow) {
        self.name = name
        self.kind = kind
        self.line = line
        self.factor = factor ?? kind.defaultFactor
        self.monotonicNanoseconds = monotonicNanoseconds
        state = Mutex(State(debouncer: Debouncer(milliseconds: debounceMilliseconds), lastRead: monotonicNanoseconds()))
    }

    deinit { stop() }

    public static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Waits up to `timeoutMilliseconds` for edges and counts those that
    /// survive the debounce. The collecting thread calls this in a loop;
    /// tests call it directly.
    public func collect(timeoutMilliseconds: Int) {
        do {
            let events = try line.waitForEvents(timeoutMilliseconds: timeoutMilliseconds)
            guard !events.isEmpty else { return }
            state.withLock { state in
                for event in events where state.debouncer.accept(event.timestampNanoseconds) {
                    state.pulses += 1
                    state.total += 1
                }
                state.failure = nil
            }
        } catch {
            state.withLock { $0.failure = error }
            var pause = timespec(tv_sec: 0, tv_nsec: Int(timeoutMilliseconds) * 1_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// Pulses counted since the counter was made.
    public var totalPulses: Int { state.withLock { $0.total } }

    /// Starts the collecting thread (idempotent).
    public func start() {
        let started = state.withLock { state -> Bool in
            if state.running { return false }
            state.running = true
            return true
        }
        guard started else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let counter = Unmanaged<PulseCounter>.fromOpaque(context).takeRetainedValue()
            while counter.state.withLock({ $0.running }) { counter.collect(timeoutMilliseconds: 100) }
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<PulseCounter>.fromOpaque(context).release()
            state.withLock {
                $0.running = false
                $0.failure = GPIOError(kind: .io, chip: line.description, detail: "cannot start the pulse-counting thread: \(String(cString: strerror(rc)))")
            }
            return
        }
        state.withLock { $0.thread = thread }
    }

    public func close() { stop() }

    /// Stops the thread (waits for it) and releases the line.
    public func stop() {
        let thread = state.withLock { state -> pthread_t? in
            state.running = false
            defer { state.thread = nil }
            return state.thread
        }
        // The thread holds a reference to us, so deinit never joins itself.
        if let thread, pthread_self() != thread { pthread_join(thread, nil) }
        line.release()
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let now = monotonicNanoseconds()
        let taken = state.withLock { state -> (pulses: Int, seconds: Double, failure: GPIOError?) in
            defer {
                state.pulses = 0
                state.lastRead = now
            }
            return (state.pulses, Double(now &- state.lastRead) / 1e9, state.failure)
        }
        if let failure = taken.failure {
            throw SensorError(code: "gpio", message: "\(name) (\(driver)): \(failure)")
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
