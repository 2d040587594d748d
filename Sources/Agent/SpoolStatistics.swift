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
    /// Highest sequence a log receipt proved logged (0: none yet).
    public var loggedUpTo: UInt64 = 0
    /// Acknowledged records kept because no log receipt proved them yet
    /// (only when the spool keeps records until they are logged).
    public var unprovenRecords: Int = 0
    /// Acknowledged, unproven records dropped because the spool was full.
    public var unprovenDropped: UInt64 = 0
    /// Unacknowledged records dropped because the spool was full.
    public var droppedRecords: UInt64
    /// Torn or corrupt tails cut off during recovery, and their bytes.
    public var truncatedTails: UInt64
    public var truncatedBytes: UInt64
}
