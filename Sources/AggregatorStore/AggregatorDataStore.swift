import Aggregator
import Crypto
import Identity
import TransparencyLog
import Wire

/// Everything the aggregator keeps, behind one protocol with two
/// implementations: `SQLiteStore` (one file, the embedded default) and
/// `PostgresStore` (several aggregators sharing one database). Both commit
/// an accepted message, its (serial, sequence) uniqueness and its tallies
/// in one transaction, and make the pairing decision in one transaction.
public protocol AggregatorDataStore: MessageCommitter, AggregatorReadModel, DeadLetterReadModel where Accepted == StoredMessage {
    var calendar: EpochCalendar { get }

    /// What the verifier needs of a device (nil: never enrolled).
    func deviceKeys(serial: String) async throws -> DeviceKeys?
    func isStored(serial: String, sequence: UInt64) async throws -> Bool

    // Every change to a device's keys is appended to the transparency log,
    // in its own transaction, as a `KeyEvent` signed with `logKey` (the
    // aggregator's key).

    /// Binds `publicKey` (pairing); a key bound before is retired. Does not
    /// lift a revocation.
    func bindKey(serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws
    /// Revokes the serial: its keys are retired and its pending enrollments
    /// cancelled. False for a serial the store does not know.
    func revoke(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool
    /// Lifts a revocation so the serial can be enrolled again. False when
    /// it was not revoked.
    func reinstate(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool

    /// Saves (or replaces) the serial's enrollment; throws
    /// `EnrollmentRefused.revoked` for a revoked serial.
    func saveEnrollment(_ enrollment: Enrollment, at time: Int64) async throws
    /// Pairing step 2 (`PairingAuthority`), in one transaction: refused, or
    /// one attempt taken and the nonce remembered.
    func reservePairingAttempt(serial: String, nonce: [UInt8], now: Int64) async throws -> PairingAuthority.Reservation
    /// Pairing step 4, after the PIN matched: marks the enrollment used and
    /// binds the key, unless the serial was revoked or the enrollment used
    /// meanwhile; an acceptance carries the highest sequence stored.
    func completePairing(_ request: PairRequest, now: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> PairingAuthority.Decision

    /// How many entries the transparency log holds (every stored message and key event, in commit order).
    func logSize() async throws -> UInt64
    /// The hashes each of `entries` added when it was appended
    /// (`EntryHashes`), in one query (for those the log has).
    func logEntryHashes(_ entries: Set<UInt64>) async throws -> [UInt64: [UInt8]]
    /// The logged entries, indices `from ..< from + count`.
    func logEntries(from start: UInt64, count: Int) async throws -> [[UInt8]]
    /// Where a stored message is in the log (nil: not logged).
    func logIndex(serial: String, sequence: UInt64) async throws -> UInt64?
    /// What a device's log receipt proves, among the first `size` entries,
    /// read together: the newest logged message of `serial` at or below
    /// `sequence`, and the newest key event for `serial`.
    func logReceiptEntries(serial: String, upTo sequence: UInt64, below size: UInt64) async throws -> (message: LoggedMessage?, keyEvent: LoggedEntry?)

    func closableEpochs(now: Int64) async throws -> [Int64]
    /// Seals an epoch (nil when it was sealed already, here or by another aggregator).
    func seal(epochStart: Int64, key: Curve25519.Signing.PrivateKey, now: Int64) async throws -> (root: EpochRoot, signed: [UInt8])?
    func messageHashes(epochStart: Int64) async throws -> [[UInt8]]

    /// Every accepted message (optionally one device's) in (serial, sequence) order.
    func exportMessages(serial: String?, _ body: @Sendable (ExportedMessage) throws -> Void) async throws
}

/// One accepted message as stored.
public struct ExportedMessage: Sendable {
    public var serial: String
    public var sequence: UInt64
    public var receivedAt: Int64
    public var hash: [UInt8]
    public var raw: [UInt8]

    public init(serial: String, sequence: UInt64, receivedAt: Int64, hash: [UInt8], raw: [UInt8]) {
        self.serial = serial
        self.sequence = sequence
        self.receivedAt = receivedAt
        self.hash = hash
        self.raw = raw
    }
}

/// An entry of the transparency log and where it is.
public struct LoggedEntry: Equatable, Sendable {
    public var index: UInt64
    public var bytes: [UInt8]

    public init(index: UInt64, bytes: [UInt8]) {
        self.index = index
        self.bytes = bytes
    }
}

/// A device's logged message: its sequence and the entry (its signed bytes).
public struct LoggedMessage: Equatable, Sendable {
    public var sequence: UInt64
    public var entry: LoggedEntry

    public init(sequence: UInt64, entry: LoggedEntry) {
        self.sequence = sequence
        self.entry = entry
    }
}

extension AggregatorDataStore {
    /// The stored hashes at `positions`, in one query (those the log has).
    public func logHashes(at positions: Set<StoredPosition>) async throws -> [StoredPosition: MerkleHash] {
        let rows = try await logEntryHashes(Set(positions.compactMap(\.completingEntry)))
        var found: [StoredPosition: MerkleHash] = [:]
        for position in positions {
            if let entry = position.completingEntry, let bytes = rows[entry], let hash = EntryHashes.hash(in: bytes, level: position.level) {
                found[position] = hash
            }
        }
        return found
    }

    /// Stored hashes at one tree level, indices `from ..< from + count`
    /// (fewer when the log has not grown that far).
    public func logHashes(level: Int, from start: UInt64, count: Int) async throws -> [MerkleHash] {
        let positions = (0..<UInt64(max(count, 0))).compactMap { offset in
            start.addingReportingOverflow(offset).overflow ? nil : StoredPosition(level: level, index: start + offset)
        }
        let found = try await logHashes(at: Set(positions))
        var hashes: [MerkleHash] = []
        for position in positions {
            guard let hash = found[position] else { break }
            hashes.append(hash)
        }
        return hashes
    }

    /// The log's size and root; the root is read from the stored hashes of
    /// that size, which later appends never change.
    public func logHead() async throws -> LogHead {
        let size = try await logSize()
        return LogHead(size: size, root: try await logProofs(size: size).root())
    }

    /// Roots and proofs of the log at `size`, read from its stored hashes.
    public func logProofs(size: UInt64) -> StoredTreeProofs {
        StoredTreeProofs(size: size) { [self] level, index in
            guard let hash = try await logHashes(level: level, from: index, count: 1).first else {
                throw LogStoreError.missingHash(level: level, index: index)
            }
            return hash
        }
    }
}
