/// Which level changes of an input line produce events.
public enum GPIOEdge: String, Equatable, Sendable, CaseIterable {
    case rising
    case falling
    case both
}

/// The line's internal pull resistor, where the chip has one.
public enum GPIOBias: String, Equatable, Sendable, CaseIterable {
    /// Leave it as the firmware or device tree set it.
    case asIs = "as-is"
    case disabled
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// One level change, with the kernel's timestamp (monotonic nanoseconds).
public struct GPIOEdgeEvent: Equatable, Sendable {
    public var rising: Bool
    public var timestampNanoseconds: UInt64

    /// Events one wait hands out at most (libgpiod v1 reads up to 16 a
    /// call); fewer means the line's queue is empty.
    public static let maximumPerWait = 16

    public init(rising: Bool, timestampNanoseconds: UInt64) {
        self.rising = rising
        self.timestampNanoseconds = timestampNanoseconds
    }
}

/// An input line a driver holds: its level, and its edge events.
public protocol GPIOInputLine: AnyObject, Sendable {
    /// `line 17 of gpiochip0 (pinctrl-bcm2711)`.
    var description: String { get }
    /// The current level (true = high).
    func value() throws(GPIOError) -> Bool
    /// Waits up to `timeoutMilliseconds` for edge events and returns those
    /// that arrived, oldest first; empty after the timeout. Only lines
    /// requested with an edge have events.
    func waitForEvents(timeoutMilliseconds: Int) throws(GPIOError) -> [GPIOEdgeEvent]
    /// Gives the line back to the kernel; further calls fail.
    func release()
}

/// An output line a driver holds.
public protocol GPIOOutputLine: AnyObject, Sendable {
    var description: String { get }
    func set(_ high: Bool) throws(GPIOError)
    func release()
}

/// A GPIO chip (`/dev/gpiochipN`): lines are requested from it by offset.
public protocol GPIOChip: AnyObject, Sendable {
    /// `gpiochip0`.
    var name: String { get }
    /// `pinctrl-bcm2711`: what board files name.
    var label: String { get }
    var lineCount: Int { get }
    /// Requests an input line, with edge events when `edge` is set.
    func requestInput(offset: Int, edge: GPIOEdge?, bias: GPIOBias) throws(GPIOError) -> any GPIOInputLine
    func requestOutput(offset: Int, initial high: Bool) throws(GPIOError) -> any GPIOOutputLine
}

extension GPIOChip {
    /// Refuses an offset the chip does not have, naming its range.
    public func checkOffset(_ offset: Int) throws(GPIOError) {
        guard (0..<lineCount).contains(offset) else {
            throw GPIOError(kind: .noSuchLine, chip: "\(name) (\(label))", line: offset,
                            detail: "has lines 0…\(lineCount - 1); check the pin → line map in the board file")
        }
    }
}

/// The consumer name the kernel shows for our lines (`gpioinfo`).
public let gpioConsumerName = "fieldproof"
