/// What `GET /api/v1/log` and the dashboard show of the transparency log:
/// its size, the newest checkpoint that reached the witness quorum, and
/// each witness's state. Times are Unix milliseconds.
public struct TransparencyLogStatus: Codable, Equatable, Sendable {
    public var origin: String
    public var size: UInt64
    /// Valid cosignatures a checkpoint needs (0: no witnesses configured).
    public var quorum: Int
    /// The size of the newest checkpoint served with at least `quorum`
    /// cosignatures; nil while none has reached it (or without witnesses).
    public var cosignedSize: UInt64?
    public var cosignedAt: Int64?
    public var witnesses: [WitnessStatus]

    public init(origin: String, size: UInt64, quorum: Int = 0, cosignedSize: UInt64? = nil, cosignedAt: Int64? = nil,
                witnesses: [WitnessStatus] = []) {
        self.origin = origin
        self.size = size
        self.quorum = quorum
        self.cosignedSize = cosignedSize
        self.cosignedAt = cosignedAt
        self.witnesses = witnesses
    }
}

/// One witness as the aggregator last saw it.
public struct WitnessStatus: Codable, Equatable, Sendable {
    public var url: String
    /// The name its cosignatures carry (from its key).
    public var name: String
    /// The largest checkpoint it cosigned for this aggregator, and when.
    public var cosignedSize: UInt64?
    public var cosignedAt: Int64?
    /// Why the latest request failed; nil once one succeeds again.
    public var lastError: String?
    public var lastErrorAt: Int64?
    public var lastAttemptAt: Int64?

    public init(url: String, name: String) {
        self.url = url
        self.name = name
    }
}
