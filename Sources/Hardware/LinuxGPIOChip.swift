import CGPIOD
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A GPIO chip through libgpiod v1. Opened by name (`gpiochip0`), number,
/// path (`/dev/gpiochip0`) or label (`pinctrl-bcm2711`), as
/// `gpiod_chip_open_lookup` does; lines are requested with the consumer
/// name "fieldproof".
public final class LinuxGPIOChip: GPIOChip, Sendable {
    // The chip handle is used only to request lines (under its lock) and is
    // closed in deinit, after every line this chip handed out (each keeps
    // the chip alive).
    private let handle: Mutex<OpaquePointer>
    public let name: String
    public let label: String
    public let lineCount: Int

    public init(_ descriptor: String) throws(GPIOError) {
        errno = 0
        guard let handle = gpiod_chip_open_lookup(descriptor) else {
            let code = errno == 0 ? ENOENT : errno
            var error = GPIOError.fromErrno(code, chip: descriptor, line: nil, operation: "open")
            if error.kind == .missingChip {
                error.detail = "no GPIO chip named, numbered or labelled \"\(descriptor)\": list them with `gpiodetect` and check `gpio_chip` in the board file"
            }
            throw error
        }
        name = String(cString: gpiod_chip_name(handle))
        label = String(cString: gpiod_chip_label(handle))
        lineCount = Int(gpiod_chip_num_lines(handle))
        self.handle = Mutex(handle)
    }

    deinit { handle.withLock { gpiod_chip_close($0) } }

    public func requestInput(offset: Int, edge: GPIOEdge?, bias: GPIOBias) throws(GPIOError) -> any GPIOInputLine {
        let type: Int32
        switch edge {
        case nil: type = Int32(GPIOD_LINE_REQUEST_DIRECTION_INPUT)
        case .rising: type = Int32(GPIOD_LINE_REQUEST_EVENT_RISING_EDGE)
        case .falling: type = Int32(GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE)
        case .both: type = Int32(GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES)
        }
        let line = try request(offset: offset, type: type, flags: Self.flags(for: bias), initial: 0)
        return LinuxGPIOLine(chip: self, line: line, offset: offset)
    }

    public func requestOutput(offset: Int, initial high: Bool) throws(GPIOError) -> any GPIOOutputLine {
        let line = try request(offset: offset, type: Int32(GPIOD_LINE_REQUEST_DIRECTION_OUTPUT), flags: 0, initial: high ? 1 : 0)
        return LinuxGPIOLine(chip: self, line: line, offset: offset)
    }

    var displayName: String { "\(name) (\(label))" }

    private static func flags(for bias: GPIOBias) -> Int32 {
        switch bias {
        case .asIs: return 0
        case .disabled: return Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: return Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: return Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
    }

    private func request(offset: Int, type: Int32, flags: Int32, initial: Int32) throws(GPIOError) -> OpaquePointer {
        try checkOffset(offset)
        return try handle.withLock { handle throws(GPIOError) -> OpaquePointer in
            errno = 0
            guard let line = gpiod_chip_get_line(handle, UInt32(offset)) else {
                throw .fromErrno(errno == 0 ? EINVAL : errno, chip: displayName, line: offset, operation: "get line")
            }
            let rc = gpioConsumerName.withCString { consumer -> Int32 in
                var config = gpiod_line_request_config(consumer: consumer, request_type: type, flags: flags)
                return gpiod_line_request(line, &config, initial)
            }
            guard rc == 0 else { throw .fromErrno(errno, chip: displayName, line: offset, operation: "request") }
            return line
        }
    }
}

/// A requested line. libgpiod's line objects belong to the chip, so the
/// line keeps its chip alive until it is released.
final class LinuxGPIOLine: GPIOPollableLine, GPIOOutputLine, @unchecked Sendable {
    // @unchecked: `line` is a C handle, used only under `released`'s lock.
    private let chip: LinuxGPIOChip
    private let line: OpaquePointer
    private let offset: Int
    private let released = Mutex(false)

    init(chip: LinuxGPIOChip, line: OpaquePointer, offset: Int) {
        self.chip = chip
        self.line = line
        self.offset = offset
    }

    deinit { release() }

    var description: String { "line \(offset) of \(chip.displayName)" }

    /// Runs `body` under the lock, unless the line was released.
    private func live<T>(_ operation: String, _ body: () throws(GPIOError) -> T) throws(GPIOError) -> T {
        try released.withLock { released throws(GPIOError) -> T in
            guard !released else {
                throw GPIOError(kind: .released, chip: chip.displayName, line: offset, detail: "\(operation): the line was released")
            }
            return try body()
        }
    }

    private func failure(_ operation: String) -> GPIOError {
        .fromErrno(errno, chip: chip.displayName, line: offset, operation: operation)
    }

    func value() throws(GPIOError) -> Bool {
        try live("read") { () throws(GPIOError) -> Bool in
            let value = gpiod_line_get_value(line)
            guard value >= 0 else { throw failure("read") }
            return value == 1
        }
    }

    func set(_ high: Bool) throws(GPIOError) {
        try live("write") { () throws(GPIOError) in
            guard gpiod_line_set_value(line, high ? 1 : 0) >= 0 else { throw failure("write") }
        }
    }

    func waitForEvents(timeoutMilliseconds: Int) throws(GPIOError) -> [GPIOEdgeEvent] {
        // The wait holds the lock, so a `release` from another thread waits
        // for it (at most the timeout) instead of closing the fd under it.
        var timeout = timespec(tv_sec: timeoutMilliseconds / 1000, tv_nsec: (timeoutMilliseconds % 1000) * 1_000_000)
        let ready: Int32 = try live("wait") { gpiod_line_event_wait(line, &timeout) }
        if ready < 0 { throw failure("wait for events") }
        if ready == 0 { return [] }
        return try live("read events") { () throws(GPIOError) -> [GPIOEdgeEvent] in
            var buffer = [gpiod_line_event](repeating: gpiod_line_event(), count: GPIOEdgeEvent.maximumPerWait)
            let count = gpiod_line_event_read_multiple(line, &buffer, UInt32(buffer.count))
            guard count >= 0 else { throw failure("read events") }
            return buffer.prefix(Int(count)).map { event in
                GPIOEdgeEvent(rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                              timestampNanoseconds: UInt64(event.ts.tv_sec) * 1_000_000_000 + UInt64(event.ts.tv_nsec))
            }
        }
    }

    /// The line's event fd, for the one poll(2) of `GPIOEdgeWatcher`; -1 once released.
    var eventFileDescriptor: Int32 {
        released.withLock { released in released ? -1 : gpiod_line_event_get_fd(line) }
    }

    func release() {
        released.withLock { released in
            guard !released else { return }
            released = true
            gpiod_line_release(line)
        }
    }
}
