import Synchronization

/// A clock whose time moves only when someone sleeps on it: `sleep(until:)`
/// jumps straight to the deadline. For deterministic tests of scheduling
/// (waits, intervals, falling behind) that take no real time.
public final class VirtualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))

    public init() {}

    public var now: Instant { current.withLock { $0 } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        advance(to: deadline)
    }

    /// Moves time forward (work that "takes" time in a test).
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    func advance(to deadline: Instant) {
        current.withLock { if $0 < deadline { $0 = deadline } }
    }
}
