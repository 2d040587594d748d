/// What the spool holds and what it had to give up.
public struct SpoolStatistics: Equatable, Sendable {
    /// Records appended and not yet acknowledged.
    public var records: Int
    public var bytes: Int
    /// When the oldest unacknowledged record was appended (Unix ms).
    public var oldestAppendedAt: UInt64?
    /// The sequence of the oldest unacknowledged record.
    public var oldestSequence: UInt64?
    /// Highest sequence the aggregator acknowledged (0: none yet).
    public var acknowledgedUpTo: UInt64
    /// Unacknowledged records dropped because the spool was full.
    public var droppedRecords: UInt64
    /// Torn or corrupt tails cut off during recovery, and their bytes.
    public var truncatedTails: UInt64
    public var truncatedBytes: UInt64
}
