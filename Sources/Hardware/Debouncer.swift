/// Software debounce on kernel timestamps: an edge counts only when at
/// least `interval` has passed since the last edge that counted. A reed
/// switch chatters for a millisecond or two when it closes; without this
/// one rain-gauge tip would count as several.
public struct Debouncer: Sendable {
    public let intervalNanoseconds: UInt64
    private var lastAccepted: UInt64?

    public init(milliseconds: Double) {
        intervalNanoseconds = UInt64(max(0, milliseconds) * 1_000_000)
    }

    /// Whether the edge at `timestamp` counts.
    public mutating func accept(_ timestamp: UInt64) -> Bool {
        if let lastAccepted, timestamp >= lastAccepted, timestamp - lastAccepted < intervalNanoseconds { return false }
        lastAccepted = timestamp
        return true
    }
}
