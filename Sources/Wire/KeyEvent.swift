import Crypto

/// A change to which key speaks for a device, as the transparency log
/// records it (issue 16): paired with a key, re-paired with a new one,
/// revoked, reinstated. Signed by the aggregator (COSE_Sign1, its key) and
/// appended in the same transaction as the change, so an auditor learns
/// every device's key from the log itself and needs no trust in the
/// aggregator's key table: a message is valid where the log's latest key
/// event for its serial binds the key that signed it.
public struct KeyEvent: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The first key bound to the serial.
        case paired
        /// A new key replaced the one bound before; the old one is retired.
        case repaired = "re-paired"
        /// The operator revoked the serial: no key speaks for it.
        case revoked
        /// The revocation was lifted; the serial must pair again before any
        /// message counts.
        case reinstated
    }

    public var kind: Kind
    public var serial: String
    /// The key bound (paired, re-paired) or retired (revoked; nil when the
    /// serial had none); nil for reinstated.
    public var publicKey: [UInt8]?
    /// Unix ms.
    public var time: UInt64
    /// The sensors the device declared when it paired (its PairRequest's),
    /// whose intervals the epoch quality scores count samples against; nil
    /// when the binding came without a pairing (the declaration before
    /// stands).
    public var sensors: [PairRequest.Sensor]?

    public init(kind: Kind, serial: String, publicKey: [UInt8]?, time: UInt64, sensors: [PairRequest.Sensor]? = nil) {
        self.kind = kind
        self.serial = serial
        self.publicKey = publicKey
        self.time = time
        self.sensors = sensors
    }

    public func encode() -> [UInt8] {
        var pairs = [
            CBORPair(.int(0), .unsigned(MessageType.keyEvent)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(kind.rawValue)),
            CBORPair(.int(3), .text(serial)),
        ]
        if let publicKey { pairs.append(CBORPair(.int(4), .bytes(publicKey))) }
        pairs.append(CBORPair(.int(5), .unsigned(time)))
        if let sensors { pairs.append(CBORPair(.int(6), PairRequest.Sensor.cbor(sensors))) }
        return CBOREncoder.encode(.map(pairs))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("KeyEvent payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.keyEvent, name: "KeyEvent")
        let name = try fields.text(2, "kind", maximum: 16)
        guard let kind = Kind(rawValue: name) else {
            throw .malformed("KeyEvent kind \"\(name)\" is none of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.kind = kind
        serial = try fields.text(3, "serial", maximum: 64)
        publicKey = fields.map[4] == nil ? nil : try fields.bytes(4, "public key", count: 32...32)
        time = try fields.uint(5, "time")
        sensors = fields.map[6] == nil ? nil : try PairRequest.Sensor.list(try fields.array(6, "sensors", maximum: 64), in: "KeyEvent")
        switch kind {
        case .paired, .repaired:
            guard publicKey != nil else { throw .malformed("a \(kind.rawValue) KeyEvent must carry the key it binds") }
        case .reinstated, .revoked:
            guard kind == .revoked || publicKey == nil else { throw .malformed("a reinstated KeyEvent carries no key") }
            guard sensors == nil else { throw .malformed("a \(kind.rawValue) KeyEvent declares no sensors") }
        }
    }

    /// The serial a log entry is about when it is a key event (its
    /// signature is not checked: this files the entry, it trusts nothing).
    public static func serial(ofLogged entry: [UInt8]) -> String? {
        guard let envelope = try? COSESign1(decoding: entry), let event = try? KeyEvent(decoding: envelope.payload) else { return nil }
        return event.serial
    }

    /// The event as a COSE_Sign1 signed by the aggregator: the log entry.
    public func signed(by key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        try COSESign1.sign(payload: encode(), with: key, keyID: KeyID.of(key.publicKey))
    }
}
