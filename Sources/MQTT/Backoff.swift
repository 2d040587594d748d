/// Capped exponential backoff with jitter for reconnect attempts.
struct Backoff: Sendable {
    let policy: MQTTReconnectPolicy
    private(set) var attempt = 0

    init(policy: MQTTReconnectPolicy) {
        self.policy = policy
    }

    /// The delay before the next attempt, in milliseconds; grows each call.
    mutating func nextDelayMilliseconds<R: RandomNumberGenerator>(using random: inout R) -> Int {
        let initial = Self.milliseconds(policy.initialDelay)
        let cap = Self.milliseconds(policy.maximumDelay)
        var base = Double(initial)
        for _ in 0..<min(attempt, 64) {
            base *= max(policy.multiplier, 1)
            if base >= Double(cap) { break }
        }
        base = min(base, Double(cap))
        attempt += 1
        let spread = base * min(max(policy.jitter, 0), 1)
        let jittered = spread > 0 ? Double.random(in: (base - spread)...(base + spread), using: &random) : base
        return max(0, Int(min(jittered, Double(cap))))
    }

    mutating func reset() { attempt = 0 }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
