/// What the HTTP API and the dashboard show, as plain values. The store
/// answers these queries; the HTTP layer only formats them.
public struct DeviceSummary: Codable, Equatable, Sendable {
    public var serial: String
    public var keyID: String?
    public var pairedAt: Int64?
    public var revoked: Bool
    public var accepted: UInt64
    public var rejected: [String: UInt64]
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    public var highestContiguous: UInt64
    /// Received ÷ expected samples, from the device's declared intervals.
    public var coverage: Double?
    /// Data-quality score in [0, 1] of the latest closed epoch.
    public var quality: Double?
    /// Messages sent before the device's clock was synchronised and since
    /// re-timed from boot id + ms since boot.
    public var retimed: UInt64
    /// Such messages still waiting for a synchronised message of their boot
    /// (stored and acknowledged; their readings not tallied yet).
    public var awaitingTime: UInt64
    /// Messages the store could not commit after its tries, kept in the
    /// dead-letter table (`GET /api/v1/dead-letters`); settled, not lost.
    public var deadLettered: UInt64 = 0
    /// Messages that arrived again with the bytes already stored (the
    /// device re-sent for want of an ack): acknowledged again, not rejected.
    public var redelivered: UInt64 = 0

    public init(serial: String, keyID: String? = nil, pairedAt: Int64? = nil, revoked: Bool = false, accepted: UInt64 = 0,
                rejected: [String: UInt64] = [:], firstSeen: Int64? = nil, lastSeen: Int64? = nil, highestContiguous: UInt64 = 0,
                coverage: Double? = nil, quality: Double? = nil, retimed: UInt64 = 0, awaitingTime: UInt64 = 0) {
        self.serial = serial
        self.keyID = keyID
        self.pairedAt = pairedAt
        self.revoked = revoked
        self.accepted = accepted
        self.rejected = rejected
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.highestContiguous = highestContiguous
        self.coverage = coverage
        self.quality = quality
        self.retimed = retimed
        self.awaitingTime = awaitingTime
    }
}

public struct TallyRow: Codable, Equatable, Sendable {
    public var serial: String
    /// `<sensor>/<quantity>`, e.g. `air/temperature`.
    public var metric: String
    public var unit: String
    public var epochStart: Int64
    public var epochEnd: Int64
    public var count: UInt64
    public var minimum: Double
    public var maximum: Double
    public var sum: Double
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }
    public var quantity: String { MetricName.quantity(metric) }

    public init(serial: String, metric: String, unit: String, epochStart: Int64, epochEnd: Int64, count: UInt64,
                minimum: Double, maximum: Double, sum: Double) {
        self.serial = serial
        self.metric = metric
        self.unit = unit
        self.epochStart = epochStart
        self.epochEnd = epochEnd
        self.count = count
        self.minimum = minimum
        self.maximum = maximum
        self.sum = sum
    }

    enum CodingKeys: String, CodingKey {
        case serial, metric, unit, epochStart, epochEnd, count, minimum, maximum, sum, mean
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serial, forKey: .serial)
        try container.encode(metric, forKey: .metric)
        try container.encode(unit, forKey: .unit)
        try container.encode(epochStart, forKey: .epochStart)
        try container.encode(epochEnd, forKey: .epochEnd)
        try container.encode(count, forKey: .count)
        try container.encode(minimum, forKey: .minimum)
        try container.encode(maximum, forKey: .maximum)
        try container.encode(sum, forKey: .sum)
        try container.encode(mean, forKey: .mean)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serial = try container.decode(String.self, forKey: .serial)
        metric = try container.decode(String.self, forKey: .metric)
        unit = try container.decode(String.self, forKey: .unit)
        epochStart = try container.decode(Int64.self, forKey: .epochStart)
        epochEnd = try container.decode(Int64.self, forKey: .epochEnd)
        count = try container.decode(UInt64.self, forKey: .count)
        minimum = try container.decode(Double.self, forKey: .minimum)
        maximum = try container.decode(Double.self, forKey: .maximum)
        sum = try container.decode(Double.self, forKey: .sum)
    }
}

/// Accepted and rejected messages in one time bucket (dashboard chart).
public struct ActivityBucket: Codable, Equatable, Sendable {
    public var start: Int64
    public var accepted: UInt64
    public var rejected: UInt64

    public init(start: Int64, accepted: UInt64, rejected: UInt64) {
        self.start = start
        self.accepted = accepted
        self.rejected = rejected
    }
}

public struct LatestReading: Codable, Equatable, Sendable {
    public var serial: String
    public var metric: String
    public var value: Double
    public var unit: String
    public var at: Int64
    /// Recent values, oldest first, for the dashboard's sparkline.
    public var recent: [Double]
    public var quantity: String { MetricName.quantity(metric) }

    public init(serial: String, metric: String, value: Double, unit: String, at: Int64, recent: [Double] = []) {
        self.serial = serial
        self.metric = metric
        self.value = value
        self.unit = unit
        self.at = at
        self.recent = recent
    }
}

public struct EpochSummary: Codable, Equatable, Sendable {
    public var id: String
    public var start: Int64
    public var end: Int64
    public var messageCount: UInt64
    /// Hex of the Merkle root and of the aggregator's signature over it.
    public var root: String
    public var signature: String
    public var aggregatorKey: String

    public init(id: String, start: Int64, end: Int64, messageCount: UInt64, root: String, signature: String, aggregatorKey: String) {
        self.id = id
        self.start = start
        self.end = end
        self.messageCount = messageCount
        self.root = root
        self.signature = signature
        self.aggregatorKey = aggregatorKey
    }
}

/// One device's data quality in one epoch: a score per metric with each
/// check's value and weight (`QualityScore`), and their mean.
public struct DeviceQuality: Codable, Equatable, Sendable {
    public struct Metric: Codable, Equatable, Sendable {
        public var metric: String
        public var samples: Int
        public var quality: QualityScore

        public init(metric: String, samples: Int, quality: QualityScore) {
            self.metric = metric
            self.samples = samples
            self.quality = quality
        }
    }

    public var serial: String
    public var epochStart: Int64
    public var epochEnd: Int64
    public var score: Double
    public var metrics: [Metric]

    public init(serial: String, epochStart: Int64, epochEnd: Int64, metrics: [Metric]) {
        self.serial = serial
        self.epochStart = epochStart
        self.epochEnd = epochEnd
        self.metrics = metrics
        self.score = metrics.isEmpty ? 0 : metrics.map(\.quality.score).reduce(0, +) / Double(metrics.count)
    }
}

public struct TallyQuery: Equatable, Sendable {
    public var serial: String?
    public var from: Int64?
    public var to: Int64?

    public init(serial: String? = nil, from: Int64? = nil, to: Int64? = nil) {
        self.serial = serial
        self.from = from
        self.to = to
    }
}

/// One page of a list: at most `limit` items after the key `after` (nil:
/// from the start), in the list's order. The API's `limit` and `cursor`
/// (`AggregatorHTTPServer`): at most `maximumLimit` a page.
public struct PageRequest<Key: Sendable & Equatable>: Sendable, Equatable {
    public static var defaultLimit: Int { 1000 }
    public static var maximumLimit: Int { 10_000 }

    public var limit: Int
    public var after: Key?

    public init(limit: Int = PageRequest.defaultLimit, after: Key? = nil) {
        self.limit = limit
        self.after = after
    }
}

/// What a page holds, and whether anything follows its last item.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var more: Bool

    public init(items: [Item], more: Bool) {
        self.items = items
        self.more = more
    }

    /// A page from up to `limit + 1` rows fetched in order (the extra one
    /// only says that there is more).
    public init(fetched rows: [Item], limit: Int) {
        self.items = Array(rows.prefix(limit))
        self.more = rows.count > limit
    }
}

/// Where a page of tallies ends: their order is (serial, metric, epoch start).
public struct TallyKey: Codable, Hashable, Sendable {
    public var serial: String
    public var metric: String
    public var epochStart: Int64

    public init(serial: String, metric: String, epochStart: Int64) {
        self.serial = serial
        self.metric = metric
        self.epochStart = epochStart
    }

    public init(_ row: TallyRow) {
        self.init(serial: row.serial, metric: row.metric, epochStart: row.epochStart)
    }
}

/// The queries behind the API and dashboard.
public protocol AggregatorReadModel: Sendable {
    func devices() async throws -> [DeviceSummary]
    /// Devices by serial, after `page.after` (a serial).
    func devices(page: PageRequest<String>) async throws -> Page<DeviceSummary>
    func device(serial: String) async throws -> DeviceSummary?
    func tallies(_ query: TallyQuery) async throws -> [TallyRow]
    /// Tallies matching `query` in (serial, metric, epoch start) order, after `page.after`.
    func tallies(_ query: TallyQuery, page: PageRequest<TallyKey>) async throws -> Page<TallyRow>
    func activity(buckets: Int, bucketMilliseconds: Int64, now: Int64) async throws -> [ActivityBucket]
    func latestReadings(limit: Int) async throws -> [LatestReading]
    func epochs() async throws -> [EpochSummary]
    /// Sealed epochs by start, after `page.after` (an epoch's start, Unix ms).
    func epochs(page: PageRequest<Int64>) async throws -> Page<EpochSummary>
    func epoch(id: String) async throws -> EpochSummary?
    /// A device's data quality in the epoch starting at `epochStart` (nil:
    /// its latest closed epoch with readings); nil when there is none.
    func quality(serial: String, epochStart: Int64?, now: Int64) async throws -> DeviceQuality?
    /// An inclusion proof for one message of an epoch, CBOR-encoded for
    /// `fieldproof decode --proof`, or nil when the message is not in it.
    func proof(epoch: String, serial: String, sequence: UInt64) async throws -> [UInt8]?
}

/// An operator's request that cannot be done as asked (a serial that is not
/// valid or is reserved): the API answers 400 with its description.
public protocol OperatorInputError: Error, CustomStringConvertible {}

/// What an operator can change over the API (bearer token required).
public protocol AggregatorOperations: Sendable {
    /// Creates a one-time PIN for `serial`; only its verifier is stored.
    func enroll(serial: String, expiresIn: Duration) async throws -> (pin: String, expiresAt: Int64)
    func revoke(serial: String) async throws -> Bool
    /// The aggregator's key fingerprint, handed out with each PIN (nil: not known here).
    var aggregatorFingerprint: String? { get }
}

extension AggregatorOperations {
    public var aggregatorFingerprint: String? { nil }
}
