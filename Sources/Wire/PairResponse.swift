/// The aggregator's answer to a PairRequest, signed with the aggregator's
/// key and MACed with the same pairing key (so the device knows the answer
/// comes from whoever holds its enrollment, not from the broker).
public struct PairResponse: Equatable, Sendable {
    public enum Result: UInt64, Sendable {
        case accepted = 0
        case wrongPIN = 1
        case expired = 2
        case locked = 3
        case unknownSerial = 4
        case stale = 5
    }

    public var serial: String
    public var result: Result
    public var attemptsLeft: UInt64
    /// The key id now bound to the serial (accepted only; else empty).
    public var boundKeyID: [UInt8]
    public var aggregatorPublicKey: [UInt8]
    /// The request's nonce: ties the answer to the question.
    public var requestNonce: [UInt8]
    public var time: UInt64

    public init(serial: String, result: Result, attemptsLeft: UInt64, boundKeyID: [UInt8], aggregatorPublicKey: [UInt8],
                requestNonce: [UInt8], time: UInt64) {
        self.serial = serial
        self.result = result
        self.attemptsLeft = attemptsLeft
        self.boundKeyID = boundKeyID
        self.aggregatorPublicKey = aggregatorPublicKey
        self.requestNonce = requestNonce
        self.time = time
    }

    public func encodeBody() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.pairResponse)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .unsigned(result.rawValue)),
            CBORPair(.int(4), .unsigned(attemptsLeft)),
            CBORPair(.int(5), .bytes(boundKeyID)),
            CBORPair(.int(6), .bytes(aggregatorPublicKey)),
            CBORPair(.int(7), .bytes(requestNonce)),
            CBORPair(.int(8), .unsigned(time)),
        ]))
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("PairResponse body: \(error)") }
        let fields = try MessageFields(item, type: MessageType.pairResponse, name: "PairResponse")
        serial = try fields.text(2, "serial", maximum: 64)
        guard let result = Result(rawValue: try fields.uint(3, "result")) else { throw .malformed("unknown PairResponse result") }
        self.result = result
        attemptsLeft = try fields.uint(4, "attempts left")
        boundKeyID = try fields.bytes(5, "bound key id", count: 0...16)
        aggregatorPublicKey = try fields.bytes(6, "aggregator public key", count: 32...32)
        requestNonce = try fields.bytes(7, "request nonce", count: 16...64)
        time = try fields.uint(8, "time")
    }
}
