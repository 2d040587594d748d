import Aggregator
import Crypto
import Identity
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

    /// Binds `publicKey` (pairing); a key bound before is retired.
    func bindKey(serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64) async throws
    /// False for a serial the store does not know.
    func revoke(serial: String) async throws -> Bool

    func saveEnrollment(_ enrollment: Enrollment, at time: Int64) async throws
    /// Judges a PairRequest against the stored enrollment (binding the key
    /// on acceptance); returns the decision and the enrollment's verifier.
    func pair(bytes: [UInt8], topic: String, now: Int64, maximumAge: Duration) async throws -> (PairingAuthority.Decision, [UInt8]?)

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
