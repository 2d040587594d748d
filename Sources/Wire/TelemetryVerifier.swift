import Crypto

/// The closed set of reasons a Telemetry message is refused.
public enum RejectionReason: String, CaseIterable, Sendable {
    case malformed
    case oversized
    case unknownDevice = "unknown_device"
    case revokedKey = "revoked_key"
    case badSignature = "bad_signature"
    case topicSerialMismatch = "topic_serial_mismatch"
    case timestampInFuture = "timestamp_in_future"
    /// A reading is NaN or ±infinity.
    case nonFiniteValue = "non_finite_value"
    /// A reading's magnitude is above `TelemetryBounds.maximumMagnitude`.
    case valueOutOfRange = "value_out_of_range"
    /// The sequence is 0 or above `TelemetryBounds.maximumInteger`.
    case sequenceOutOfRange = "sequence_out_of_range"
    /// The timestamp is above `TelemetryBounds.maximumInteger`, or before
    /// 2000-01-01 while the message says its clock is synchronised.
    case timestampOutOfRange = "timestamp_out_of_range"
    /// Milliseconds since boot above 100 years.
    case msSinceBootOutOfRange = "ms_since_boot_out_of_range"
    /// The (serial, sequence) is stored already with different bytes: the
    /// device reused a sequence or someone holds its key. Not acknowledged;
    /// an alarm. Decided by the store at commit, which also knows a message
    /// stored already with the same bytes: that is a redelivery (the device
    /// lacked the ack), acknowledged again and counted apart, not refused.
    case sequenceConflict = "sequence_conflict"
}

/// What a Telemetry message's numbers may be. Everything past these is
/// refused before it reaches a store, so that nothing a client sends can
/// overflow the aggregator's arithmetic (SQLite and PostgreSQL keep
/// integers as signed 64-bit) or its sums:
/// - integers (sequence, timestamp) ≤ 2^53 − 1, exact in a double and in
///   JavaScript; sequence ≥ 1 (0 is "nothing yet" in an Ack);
/// - a synchronised timestamp ≥ 946 684 800 000 (2000-01-01T00:00:00Z): a
///   clock that says it is synchronised and reads earlier is lying;
/// - ms since boot ≤ 3 155 760 000 000 (100 years), so wall time at boot
///   (timestamp − ms since boot) and anchor + ms since boot stay far inside
///   Int64;
/// - a reading finite with |value| ≤ 10^15: no sensor reads more, and a sum
///   of them stays finite (Double.greatestFiniteMagnitude ≈ 1.8 × 10^308
///   would need more than 10^293 readings in one tally), so tallies and the
///   JSON made of them never hold NaN or infinity.
public enum TelemetryBounds {
    public static let maximumInteger: UInt64 = (1 << 53) - 1
    public static let earliestSynchronisedTimestamp: UInt64 = 946_684_800_000
    public static let maximumMillisecondsSinceBoot: UInt64 = 3_155_760_000_000
    public static let maximumMagnitude = 1e15

    /// The first bound `telemetry` breaks, with a one-line detail; nil when
    /// it keeps them all.
    public static func violation(of telemetry: Telemetry) -> (RejectionReason, String)? {
        guard telemetry.sequence >= 1, telemetry.sequence <= maximumInteger else {
            return (.sequenceOutOfRange, "sequence \(telemetry.sequence) is outside 1...\(maximumInteger)")
        }
        guard telemetry.timestamp <= maximumInteger else {
            return (.timestampOutOfRange, "timestamp \(telemetry.timestamp) is above \(maximumInteger)")
        }
        if telemetry.clockSynchronised && telemetry.timestamp < earliestSynchronisedTimestamp {
            return (.timestampOutOfRange, "synchronised timestamp \(telemetry.timestamp) is before 2000-01-01")
        }
        guard telemetry.millisecondsSinceBoot <= maximumMillisecondsSinceBoot else {
            return (.msSinceBootOutOfRange, "ms since boot \(telemetry.millisecondsSinceBoot) is above \(maximumMillisecondsSinceBoot) (100 years)")
        }
        for reading in telemetry.readings {
            guard reading.value.isFinite else {
                return (.nonFiniteValue, "\(reading.sensor)/\(reading.quantity) is \(reading.value)")
            }
            guard abs(reading.value) <= maximumMagnitude else {
                return (.valueOutOfRange, "\(reading.sensor)/\(reading.quantity) is \(reading.value), beyond ±1e15")
            }
        }
        return nil
    }
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
/// In three steps so a store that answers asynchronously can look up the
/// keys between them: `decode`, `checkSignature` (with the device's keys),
/// `checkFreshness` (with whether the sequence is already stored).
public enum TelemetryVerifier {
    /// A message that decoded, before any key was consulted.
    public struct Decoded: Sendable {
        public var envelope: COSESign1
        public var telemetry: Telemetry
        public var bytes: [UInt8]
        public var topic: String

        public init(envelope: COSESign1, telemetry: Telemetry, bytes: [UInt8], topic: String) {
            self.envelope = envelope
            self.telemetry = telemetry
            self.bytes = bytes
            self.topic = topic
        }
    }

    public static func verify(bytes: [UInt8], topic: String, registry: some DeviceKeyRegistry, now: UInt64,
                              maximumFutureSkew: UInt64 = 300_000, limits: CBORLimits = .message) -> TelemetryVerdict {
        let decoded: Decoded
        switch decode(bytes: bytes, topic: topic, limits: limits) {
        case let .failure(rejection): return rejection.verdict
        case let .success(value): decoded = value
        }
        let serial = decoded.telemetry.serial
        if let rejection = checkBounds(decoded) { return rejection.verdict }
        if let rejection = checkSignature(decoded, keys: Topics.serial(in: topic, kind: "telemetry") == serial ? registry.keys(for: serial) : nil) {
            return rejection.verdict
        }
        return checkFreshness(decoded, now: now, maximumFutureSkew: maximumFutureSkew)
    }

    /// A rejection, as an error so the steps can use `Result`.
    public struct Rejection: Error, Sendable {
        public var reason: RejectionReason
        public var serial: String?
        public var detail: String
        public var verdict: TelemetryVerdict { .rejected(reason, serial: serial, detail: detail) }
    }

    /// Envelope and payload decoded, or `malformed` / `oversized`.
    public static func decode(bytes: [UInt8], topic: String, limits: CBORLimits = .message) -> Result<Decoded, Rejection> {
        let topicSerial = Topics.serial(in: topic, kind: "telemetry")
        let envelope: COSESign1
        do {
            envelope = try COSESign1(decoding: bytes, limits: limits)
        } catch {
            if case .oversized = error { return .failure(Rejection(reason: .oversized, serial: topicSerial, detail: error.description)) }
            return .failure(Rejection(reason: .malformed, serial: topicSerial, detail: error.description))
        }
        do {
            return .success(Decoded(envelope: envelope, telemetry: try Telemetry(decoding: envelope.payload), bytes: bytes, topic: topic))
        } catch {
            return .failure(Rejection(reason: .malformed, serial: topicSerial, detail: error.description))
        }
    }

    /// The numbers' bounds (`TelemetryBounds`); nil when they hold.
    ///
    /// Checked before the signature, on purpose: it costs nanoseconds where
    /// a verify costs ~140 µs, so a flood of out-of-range messages is turned
    /// away without any Ed25519 work or key lookup, and whether a message
    /// is signed or not, a value past these bounds is never stored. Like
    /// `malformed`, the rejection is counted against the serial of the
    /// topic (what a forger could also do with any malformed message), not
    /// the unverified serial inside.
    public static func checkBounds(_ decoded: Decoded) -> Rejection? {
        guard let (reason, detail) = TelemetryBounds.violation(of: decoded.telemetry) else { return nil }
        return Rejection(reason: reason, serial: Topics.serial(in: decoded.topic, kind: "telemetry"), detail: detail)
    }

    /// The topic, the device's standing and its signature; nil when all hold.
    /// `keys` is what the registry knows of the signed serial (nil: not enrolled).
    public static func checkSignature(_ decoded: Decoded, keys: DeviceKeys?) -> Rejection? {
        let serial = decoded.telemetry.serial, envelope = decoded.envelope
        guard Topics.serial(in: decoded.topic, kind: "telemetry") == serial else {
            return Rejection(reason: .topicSerialMismatch, serial: serial, detail: "signed serial \(serial) arrived on topic \(decoded.topic)")
        }
        guard let keys else {
            return Rejection(reason: .unknownDevice, serial: serial, detail: "no device \(serial) is enrolled")
        }
        if keys.revoked || keys.retiredKeyIDs.contains(envelope.keyID) {
            return Rejection(reason: .revokedKey, serial: serial, detail: "key \(KeyID.hex(envelope.keyID)) of \(serial) is revoked")
        }
        guard let key = keys.current, let keyID = keys.currentKeyID else {
            return Rejection(reason: .unknownDevice, serial: serial, detail: "device \(serial) is enrolled but not paired")
        }
        guard envelope.keyID == keyID, envelope.isValid(for: key) else {
            return Rejection(reason: .badSignature, serial: serial, detail: "signature does not verify with the key bound to \(serial)")
        }
        return nil
    }

    /// Clocks: the last step, after the signature held. (Whether the
    /// sequence is stored already, with these bytes or others, is the
    /// store's to say at commit.)
    public static func checkFreshness(_ decoded: Decoded, now: UInt64, maximumFutureSkew: UInt64 = 300_000) -> TelemetryVerdict {
        let telemetry = decoded.telemetry, serial = telemetry.serial
        if telemetry.clockSynchronised && telemetry.timestamp > now + maximumFutureSkew {
            return .rejected(.timestampInFuture, serial: serial, detail: "timestamp is \((telemetry.timestamp - now) / 1000) s in the future")
        }
        return .accepted(VerifiedTelemetry(telemetry: telemetry, raw: decoded.bytes, keyID: decoded.envelope.keyID))
    }
}
