import Crypto

/// The closed set of reasons a Telemetry message is refused.
public enum RejectionReason: String, CaseIterable, Sendable {
    case malformed
    case oversized
    case unknownDevice = "unknown_device"
    case revokedKey = "revoked_key"
    case badSignature = "bad_signature"
    case topicSerialMismatch = "topic_serial_mismatch"
    case duplicateSequence = "duplicate_sequence"
    case timestampInFuture = "timestamp_in_future"
}

/// What the aggregator knows of one device's keys.
public struct DeviceKeys: Sendable {
    /// The bound key; nil when the device is enrolled but not paired.
    public var current: Curve25519.Signing.PublicKey? {
        didSet { currentKeyID = current.map(KeyID.of) }
    }
    /// Its key id, computed once.
    public private(set) var currentKeyID: [UInt8]?
    /// Key ids bound before (re-pairing replaced them) — messages signed
    /// with them are refused as revoked.
    public var retiredKeyIDs: Set<[UInt8]>
    /// The operator revoked the device.
    public var revoked: Bool

    public init(current: Curve25519.Signing.PublicKey?, retiredKeyIDs: Set<[UInt8]> = [], revoked: Bool = false) {
        self.current = current
        self.currentKeyID = current.map(KeyID.of)
        self.retiredKeyIDs = retiredKeyIDs
        self.revoked = revoked
    }
}

/// The aggregator's view the verifier consults.
public protocol DeviceKeyRegistry: Sendable {
    /// nil for a serial the aggregator has never enrolled.
    func keys(for serial: String) -> DeviceKeys?
    /// Whether this (serial, sequence) was already accepted.
    func hasAccepted(serial: String, sequence: UInt64) -> Bool
}

/// An accepted message and what the store needs of it.
public struct VerifiedTelemetry: Sendable {
    public var telemetry: Telemetry
    /// The message exactly as received (what the Merkle leaf hashes).
    public var raw: [UInt8]
    public var keyID: [UInt8]

    public init(telemetry: Telemetry, raw: [UInt8], keyID: [UInt8]) {
        self.telemetry = telemetry
        self.raw = raw
        self.keyID = keyID
    }

    /// SHA-256 of `raw` (the epoch's Merkle leaf), computed when the store
    /// asks for it rather than by the verifier: a message can still turn
    /// out to be a duplicate at commit, and hashing cost ~1 µs per message.
    public var hash: [UInt8] { Array(SHA256.hash(data: raw)) }
}

public enum TelemetryVerdict: Sendable {
    case accepted(VerifiedTelemetry)
    /// `serial` when the message named one; `detail` is a one-line reason.
    case rejected(RejectionReason, serial: String?, detail: String)

    public var reason: RejectionReason? {
        if case let .rejected(reason, _, _) = self { return reason }
        return nil
    }
}

/// Verification as a pure function: bytes, the topic they came on, and the
/// registry in; accepted (with the decoded message) or one reason out.
public enum TelemetryVerifier {
    public static func verify(bytes: [UInt8], topic: String, registry: some DeviceKeyRegistry, now: UInt64,
                              maximumFutureSkew: UInt64 = 300_000, limits: CBORLimits = .message) -> TelemetryVerdict {
        let topicSerial = Topics.serial(in: topic, kind: "telemetry")
        let envelope: COSESign1
        do {
            envelope = try COSESign1(decoding: bytes, limits: limits)
        } catch {
            if case .oversized = error { return .rejected(.oversized, serial: topicSerial, detail: error.description) }
            return .rejected(.malformed, serial: topicSerial, detail: error.description)
        }
        let telemetry: Telemetry
        do {
            telemetry = try Telemetry(decoding: envelope.payload)
        } catch {
            return .rejected(.malformed, serial: topicSerial, detail: error.description)
        }
        let serial = telemetry.serial
        guard topicSerial == serial else {
            return .rejected(.topicSerialMismatch, serial: serial, detail: "signed serial \(serial) arrived on topic \(topic)")
        }
        guard let keys = registry.keys(for: serial) else {
            return .rejected(.unknownDevice, serial: serial, detail: "no device \(serial) is enrolled")
        }
        if keys.revoked || keys.retiredKeyIDs.contains(envelope.keyID) {
            return .rejected(.revokedKey, serial: serial, detail: "key \(KeyID.hex(envelope.keyID)) of \(serial) is revoked")
        }
        guard let key = keys.current, let keyID = keys.currentKeyID else {
            return .rejected(.unknownDevice, serial: serial, detail: "device \(serial) is enrolled but not paired")
        }
        guard envelope.keyID == keyID, envelope.isValid(for: key) else {
            return .rejected(.badSignature, serial: serial, detail: "signature does not verify with the key bound to \(serial)")
        }
        if registry.hasAccepted(serial: serial, sequence: telemetry.sequence) {
            return .rejected(.duplicateSequence, serial: serial, detail: "sequence \(telemetry.sequence) of \(serial) was already accepted")
        }
        if telemetry.clockSynchronised && telemetry.timestamp > now + maximumFutureSkew {
            return .rejected(.timestampInFuture, serial: serial, detail: "timestamp is \((telemetry.timestamp - now) / 1000) s in the future")
        }
        return .accepted(VerifiedTelemetry(telemetry: telemetry, raw: bytes, keyID: keyID))
    }
}
