import Hardware
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A GPIO chip in memory. Tests set line levels or script edges with
/// timestamps; requested input lines see the level and get the edge events
/// their edge setting selects, as the kernel would deliver them.
public final class SimulatedGPIOChip: GPIOChip, Sendable {
    public let name: String
    public let label: String
    public let lineCount: Int

    struct Line {
        var level = false
        var requestedBy: ObjectIdentifier?
        var edge: GPIOEdge?
        var bias: GPIOBias = .asIs
        var pending: [GPIOEdgeEvent] = []
        var output = false
    }

    private let lines: Mutex<[Line]>

    public init(name: String = "gpiochip0", label: String = "simulated", lineCount: Int = 54) {
        self.name = name
        self.label = label
        self.lineCount = lineCount
        lines = Mutex(Array(repeating: Line(), count: lineCount))
    }

    var displayName: String { "\(name) (\(label))" }

    public func requestInput(offset: Int, edge: GPIOEdge?, bias: GPIOBias) throws(GPIOError) -> any GPIOInputLine {
        try checkOffset(offset)
        let line = SimulatedGPIOLine(chip: self, offset: offset)
        try claim(offset, by: line) { state in
            state.edge = edge
            state.bias = bias
            state.output = false
            // An unconnected input with a pull settles at the pull's level.
            if bias == .pullUp { state.level = true } else if bias == .pullDown { state.level = false }
        }
        return line
    }

    public func requestOutput(offset: Int, initial high: Bool) throws(GPIOError) -> any GPIOOutputLine {
        try checkOffset(offset)
        let line = SimulatedGPIOLine(chip: self, offset: offset)
        try claim(offset, by: line) { state in
            state.output = true
            state.edge = nil
            state.level = high
        }
        return line
    }

    private func claim(_ offset: Int, by line: SimulatedGPIOLine, _ configure: (inout Line) -> Void) throws(GPIOError) {
        let taken = lines.withLock { lines -> Bool in
            guard lines[offset].requestedBy == nil else { return true }
            lines[offset] = Line(level: lines[offset].level, requestedBy: ObjectIdentifier(line))
            configure(&lines[offset])
            return false
        }
        if taken {
            throw GPIOError(kind: .busy, chip: displayName, line: offset, errno: EBUSY,
                            detail: "request: Device or resource busy; another program holds the line: `gpioinfo` shows its consumer")
        }
    }

    /// Drives an input line to `high` at `nanoseconds`; a requested line
    /// gets an event when the level changes and its edge setting selects it.
    public func drive(_ offset: Int, high: Bool, atNanoseconds nanoseconds: UInt64) {
        lines.withLock { lines in
            guard lines.indices.contains(offset), lines[offset].level != high else { return }
            lines[offset].level = high
            guard lines[offset].requestedBy != nil, let edge = lines[offset].edge else { return }
            if edge == .both || (edge == .rising) == high {
                lines[offset].pending.append(GPIOEdgeEvent(rising: high, timestampNanoseconds: nanoseconds))
            }
        }
    }

    /// A pulse: to the active level at `start`, back after `width`.
    public func pulse(_ offset: Int, activeHigh: Bool = false, atNanoseconds start: UInt64, widthNanoseconds width: UInt64 = 5_000_000) {
        drive(offset, high: activeHigh, atNanoseconds: start)
        drive(offset, high: !activeHigh, atNanoseconds: start + width)
    }

    /// The level an output line was last set to.
    public func level(_ offset: Int) -> Bool { lines.withLock { $0[offset].level } }
    /// Requested inputs that watch for edges.
    public func edgeWatchingLines() -> [Int] {
        lines.withLock { lines in lines.indices.filter { lines[$0].requestedBy != nil && lines[$0].edge != nil } }
    }
    public func isRequested(_ offset: Int) -> Bool { lines.withLock { $0[offset].requestedBy != nil } }
    public func bias(_ offset: Int) -> GPIOBias { lines.withLock { $0[offset].bias } }

    func read(_ offset: Int, by owner: ObjectIdentifier) throws(GPIOError) -> Bool {
        try owned(offset, by: owner, "read") { $0.level }
    }

    func set(_ offset: Int, high: Bool, by owner: ObjectIdentifier) throws(GPIOError) {
        try owned(offset, by: owner, "write") { $0.level = high }
    }

    func takeEvents(_ offset: Int, by owner: ObjectIdentifier) throws(GPIOError) -> [GPIOEdgeEvent] {
        try owned(offset, by: owner, "wait for events") { line in
            defer { line.pending.removeAll() }
            return line.pending
        }
    }

    func release(_ offset: Int, by owner: ObjectIdentifier) {
        lines.withLock { lines in
            if lines[offset].requestedBy == owner { lines[offset] = Line(level: lines[offset].level) }
        }
    }

    private func owned<T: Sendable>(_ offset: Int, by owner: ObjectIdentifier, _ operation: String,
                                    _ body: (inout Line) -> T) throws(GPIOError) -> T {
        let result = lines.withLock { lines -> T? in
            guard lines[offset].requestedBy == owner else { return nil }
            return body(&lines[offset])
        }
        guard let result else {
            throw GPIOError(kind: .released, chip: displayName, line: offset, detail: "\(operation): the line was released")
        }
        return result
    }
}

final class SimulatedGPIOLine: GPIOInputLine, GPIOOutputLine, Sendable {
    let chip: SimulatedGPIOChip
    let offset: Int

    init(chip: SimulatedGPIOChip, offset: Int) {
        self.chip = chip
        self.offset = offset
    }

    deinit { chip.release(offset, by: ObjectIdentifier(self)) }

    var description: String { "line \(offset) of \(chip.displayName)" }

    func value() throws(GPIOError) -> Bool { try chip.read(offset, by: ObjectIdentifier(self)) }
    func set(_ high: Bool) throws(GPIOError) { try chip.set(offset, high: high, by: ObjectIdentifier(self)) }

    /// Returns pending events at once; with none, polls every millisecond
    /// until the timeout (another thread may be scripting edges).
    func waitForEvents(timeoutMilliseconds: Int) throws(GPIOError) -> [GPIOEdgeEvent] {
        var waited = 0
        while true {
            let events = try chip.takeEvents(offset, by: ObjectIdentifier(self))
            if !events.isEmpty || waited >= timeoutMilliseconds { return events }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
            waited += 1
        }
    }

    func release() { chip.release(offset, by: ObjectIdentifier(self)) }
}
