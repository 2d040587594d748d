/// When appended records reach the disk.
public enum SpoolDurability: Equatable, Sendable {
    /// fsync after every record: nothing appended is lost to a power cut.
    case everyRecord
    /// fsync at most every `milliseconds` (and on `sync()`): far cheaper on
    /// SD cards; a power cut can lose the records of the last interval.
    case groupCommit(milliseconds: Int)
}

public struct SpoolConfiguration: Equatable, Sendable {
    public var directory: String
    /// Upper bound of all segment files together; when a new record would
    /// pass it, the oldest segment is dropped (and its records counted).
    public var maximumBytes: Int
    /// Size at which a segment is closed and a new one started.
    public var segmentBytes: Int
    public var durability: SpoolDurability
    /// Keep acknowledged records until a log receipt proves them logged
    /// (`Spool.markLogged`), not only until the Ack: what a device that
    /// audits the transparency log does.
    public var keepUntilLogged: Bool

    public init(directory: String, maximumBytes: Int = 64 << 20, segmentBytes: Int = 1 << 20,
                durability: SpoolDurability = .groupCommit(milliseconds: 200), keepUntilLogged: Bool = false) {
        self.directory = directory
        self.maximumBytes = maximumBytes
        self.segmentBytes = segmentBytes
        self.durability = durability
        self.keepUntilLogged = keepUntilLogged
    }
}
