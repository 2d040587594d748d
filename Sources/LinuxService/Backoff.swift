/// Capped exponential backoff with jitter: the one schedule for waiting
/// between tries, used by MQTT reconnects and the aggregator's store
/// retries.
public struct Backoff: Sendable {
    public let initialDelay: Duration
    public let maximumDelay: Duration
    /// Each delay is the previous one times this (at least 1).
    public let multiplier: Double
    /// Each delay is spread uniformly by ± this fraction of itself (0…1), so
    /// many clients that lost one broker do not all come back at once.
    public let jitter: Double
    public private(set) var attempt = 0

    public init(initialDelay: Duration, maximumDelay: Duration, multiplier: Double = 2, jitter: Double = 0) {
        self.initialDelay = initialDelay
        self.maximumDelay = max(initialDelay, maximumDelay)
        self.multiplier = multiplier.isFinite ? max(multiplier, 1) : 1
        self.jitter = jitter.isFinite ? min(max(jitter, 0), 1) : 0
    }

    /// The wait before the next try; grows with each call up to the maximum.
    public mutating func nextDelay<R: RandomNumberGenerator>(using random: inout R) -> Duration {
        let cap = Self.nanoseconds(maximumDelay)
        var base = Self.nanoseconds(initialDelay)
        for _ in 0..<min(attempt, 64) {
            base *= multiplier
            if base >= cap { break }
        }
        base = min(base, cap)
        attempt += 1
        let spread = base * jitter
        let jittered = spread > 0 ? Double.random(in: (base - spread)...(base + spread), using: &random) : base
        return .nanoseconds(Int64(max(0, min(jittered, cap)).rounded()))
    }

    public mutating func nextDelay() -> Duration {
        var random = SystemRandomNumberGenerator()
        return nextDelay(using: &random)
    }

    /// The last try succeeded: start again from the initial delay.
    public mutating func reset() { attempt = 0 }

    /// In nanoseconds, where doubling a whole number of milliseconds stays exact.
    private static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds / 1_000_000_000)
    }
}

/// Runs `body` until it succeeds, waiting out `backoff` after each failure
/// (reported to `failed`); nil only when the task is cancelled. For work
/// that must not be given up, such as storing or judging a message while
/// the database restarts.
public func retryingUntilCancelled<T: Sendable>(
    backoff: Backoff = Backoff(initialDelay: .milliseconds(50), maximumDelay: .seconds(5)),
    failed: (any Error) -> Void,
    _ body: () async throws -> T
) async -> T? {
    var backoff = backoff
    while !Task.isCancelled {
        do {
            return try await body()
        } catch {
            failed(error)
            try? await Task.sleep(for: backoff.nextDelay())
        }
    }
    return nil
}
