import Crypto

/// A sealed epoch, as the transparency log records it (issue 16 item 5):
/// appended by the aggregator, signed with its key, in the transaction
/// that seals the epoch, so the tallies people are paid on are committed
/// to in the log (and cosigned with it) at a known place.
///
/// `tallyDigest` covers the epoch's tallies as they stand at that place in
/// the log: for each (serial, metric), its unit, count, minimum and maximum.
/// Sums are left out: a store adds a batch's readings before adding them to
/// the tally, so the last bits of a sum depend on how messages were
/// batched, which the log does not record. An auditor replaying the log
/// recomputes the digest from the entries before this one.
public struct EpochSummaryEntry: Equatable, Sendable {
    /// One tally of the epoch, as the digest covers it.
    public struct Tally: Equatable, Sendable {
        public var serial: String
        public var metric: String
        public var unit: String
        public var count: UInt64
        public var minimum: Double
        public var maximum: Double

        public init(serial: String, metric: String, unit: String, count: UInt64, minimum: Double, maximum: Double) {
            self.serial = serial
            self.metric = metric
            self.unit = unit
            self.count = count
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// The sealed epoch's root, as published (fields 2-7, as in EpochRoot).
    public var epoch: EpochRoot
    /// Entries in the log before this one: the log size that closed the epoch.
    public var logSize: UInt64
    public var tallyDigest: [UInt8]

    public init(epoch: EpochRoot, logSize: UInt64, tallyDigest: [UInt8]) {
        self.epoch = epoch
        self.logSize = logSize
        self.tallyDigest = tallyDigest
    }

    /// The summary of a sealed epoch whose tallies stand as `tallies` when
    /// the log holds `logSize` entries.
    public init(epoch: EpochRoot, logSize: UInt64, tallies: [Tally]) {
        self.init(epoch: epoch, logSize: logSize, tallyDigest: Self.digest(tallies))
    }

    /// SHA-256 of the deterministic CBOR array of `tallies` in (serial,
    /// metric) order, each `[serial, metric, unit, count, minimum, maximum]`.
    public static func digest(_ tallies: [Tally]) -> [UInt8] {
        let sorted = tallies.sorted { ($0.serial, $0.metric) < ($1.serial, $1.metric) }
        let encoded = CBOREncoder.encode(.array(sorted.map { tally in
            .array([.text(tally.serial), .text(tally.metric), .text(tally.unit), .unsigned(tally.count), .float(tally.minimum),
                    .float(tally.maximum)])
        }))
        return Array(SHA256.hash(data: encoded))
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([CBORPair(.int(0), .unsigned(MessageType.epochSummary)), CBORPair(.int(1), .unsigned(1))] + epoch.fields + [
            CBORPair(.int(8), .unsigned(logSize)),
            CBORPair(.int(9), .bytes(tallyDigest)),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("EpochSummaryEntry payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.epochSummary, name: "EpochSummaryEntry")
        epoch = try EpochRoot(fields)
        logSize = try fields.uint(8, "log size")
        tallyDigest = try fields.bytes(9, "tally digest", count: 32...32)
    }

    /// The summary as a COSE_Sign1 signed by the aggregator: the log entry.
    public func signed(by key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        try COSESign1.sign(payload: encode(), with: key, keyID: KeyID.of(key.publicKey))
    }
}
