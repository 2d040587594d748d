/// The aggregator's answer to a PairRequest (version 2): the payload of a
/// COSE_Sign1 signed with the aggregator's key — the key the device already
/// holds (it checked it against its fingerprint before sending), so an
/// answer the broker makes up does not verify. It names the request's
/// nonce, which only the holder of the aggregator's private key could read
/// out of the sealed request.
public struct PairResponse: Equatable, Sendable {
    public enum Result: UInt64, Sendable {
        case accepted = 0
        case wrongPIN = 1
        case expired = 2
        case locked = 3
        case unknownSerial = 4
        case stale = 5
        /// The operator revoked the serial; it pairs again only after
        /// `devices reinstate` and a new enrollment.
        case revoked = 6
    }

    public var serial: String
    public var result: Result
    public var attemptsLeft: UInt64
    /// The key id now bound to the serial (accepted only; else empty).
    public var boundKeyID: [UInt8]
    /// The request's nonce: ties the answer to the question.
    public var requestNonce: [UInt8]
    public var time: UInt64
    /// The highest sequence the aggregator holds for the serial (0: none):
    /// a reflashed device continues above it instead of re-using numbers.
    public var highestSequence: UInt64

    public init(serial: String, result: Result, attemptsLeft: UInt64, boundKeyID: [UInt8], requestNonce: [UInt8], time: UInt64,
                highestSequence: UInt64 = 0) {
        self.serial = serial
        self.result = result
        self.attemptsLeft = attemptsLeft
        self.boundKeyID = boundKeyID
        self.requestNonce = requestNonce
        self.time = time
        self.highestSequence = highestSequence
    }

    public func encodeBody() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.pairResponse)),
            CBORPair(.int(1), .unsigned(PairRequest.version)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .unsigned(result.rawValue)),
            CBORPair(.int(4), .unsigned(attemptsLeft)),
            CBORPair(.int(5), .bytes(boundKeyID)),
            CBORPair(.int(6), .bytes(requestNonce)),
            CBORPair(.int(7), .unsigned(time)),
            CBORPair(.int(8), .unsigned(highestSequence)),
        ]))
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("PairResponse body: \(error)") }
        let fields = try MessageFields(item, type: MessageType.pairResponse, name: "PairResponse", version: PairRequest.version)
        serial = try fields.text(2, "serial", maximum: 64)
        guard let result = Result(rawValue: try fields.uint(3, "result")) else { throw .malformed("unknown PairResponse result") }
        self.result = result
        attemptsLeft = try fields.uint(4, "attempts left")
        boundKeyID = try fields.bytes(5, "bound key id", count: 0...16)
        requestNonce = try fields.bytes(6, "request nonce", count: 16...64)
        time = try fields.uint(7, "time")
        highestSequence = try fields.uint(8, "highest sequence")
        guard highestSequence <= TelemetryBounds.maximumInteger else { throw .malformed("PairResponse highest sequence is above \(TelemetryBounds.maximumInteger)") }
    }
}

/// The aggregator's public keys, published retained on
/// `fieldproof/v1/aggregator/keys` as the payload of a COSE_Sign1 signed by
/// the signing key it carries: `{0: 7, 1: 1, 2: Ed25519 signing key,
/// 3: X25519 pairing (HPKE) key}`. The signature alone proves nothing (anyone
/// can sign their own keys); a device trusts it only when its fingerprint
/// matches the one the operator gave the technician (`AggregatorKeys.fingerprint`).
public struct AggregatorKeys: Equatable, Sendable {
    public var signingKey: [UInt8]
    public var pairingKey: [UInt8]

    public init(signingKey: [UInt8], pairingKey: [UInt8]) {
        self.signingKey = signingKey
        self.pairingKey = pairingKey
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.aggregatorKeys)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .bytes(signingKey)),
            CBORPair(.int(3), .bytes(pairingKey)),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("AggregatorKeys payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.aggregatorKeys, name: "AggregatorKeys")
        signingKey = try fields.bytes(2, "Ed25519 signing key", count: 32...32)
        pairingKey = try fields.bytes(3, "X25519 pairing key", count: 32...32)
    }
}
