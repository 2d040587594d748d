/// A closed epoch, sealed by the aggregator: the RFC 6962 Merkle root over
/// the sorted SHA-256 hashes of the epoch's accepted messages. Signed by
/// the aggregator, retained on `fieldproof/v1/epochs/<id>`.
public struct EpochRoot: Equatable, Sendable {
    public var id: String
    /// Unix ms, [start, end).
    public var start: UInt64
    public var end: UInt64
    public var messageCount: UInt64
    public var root: [UInt8]
    public var time: UInt64

    public init(id: String, start: UInt64, end: UInt64, messageCount: UInt64, root: [UInt8], time: UInt64) {
        self.id = id
        self.start = start
        self.end = end
        self.messageCount = messageCount
        self.root = root
        self.time = time
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([CBORPair(.int(0), .unsigned(MessageType.epochRoot)), CBORPair(.int(1), .unsigned(1))] + fields))
    }

    /// Fields 2-7, which the log's EpochSummaryEntry carries too.
    var fields: [CBORPair] {
        [
            CBORPair(.int(2), .text(id)),
            CBORPair(.int(3), .unsigned(start)),
            CBORPair(.int(4), .unsigned(end)),
            CBORPair(.int(5), .unsigned(messageCount)),
            CBORPair(.int(6), .bytes(root)),
            CBORPair(.int(7), .unsigned(time)),
        ]
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("EpochRoot payload: \(error)") }
        try self.init(try MessageFields(item, type: MessageType.epochRoot, name: "EpochRoot"))
    }

    init(_ fields: MessageFields) throws(WireError) {
        id = try fields.text(2, "epoch id", maximum: 64)
        start = try fields.uint(3, "start")
        end = try fields.uint(4, "end")
        messageCount = try fields.uint(5, "message count")
        root = try fields.bytes(6, "Merkle root", count: 32...32)
        time = try fields.uint(7, "time")
        guard start < end else { throw .malformed("\(fields.name) start \(start) is not before its end \(end)") }
    }
}

/// Evidence that one accepted message counts in a sealed epoch, checkable
/// offline (`fieldproof decode --proof`): the aggregator's signed epoch
/// root, the message exactly as the device signed it, the device key the
/// aggregator had bound, and the RFC 6962 audit path.
public struct InclusionProof: Equatable, Sendable {
    /// The signed EpochRoot (COSE_Sign1), as published.
    public var epoch: [UInt8]
    /// The Telemetry (COSE_Sign1), as received.
    public var message: [UInt8]
    public var devicePublicKey: [UInt8]
    public var leafIndex: UInt64
    public var path: [[UInt8]]

    public init(epoch: [UInt8], message: [UInt8], devicePublicKey: [UInt8], leafIndex: UInt64, path: [[UInt8]]) {
        self.epoch = epoch
        self.message = message
        self.devicePublicKey = devicePublicKey
        self.leafIndex = leafIndex
        self.path = path
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.inclusionProof)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .bytes(epoch)),
            CBORPair(.int(3), .bytes(message)),
            CBORPair(.int(4), .bytes(devicePublicKey)),
            CBORPair(.int(5), .unsigned(leafIndex)),
            CBORPair(.int(6), .array(path.map(CBOR.bytes))),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes, limits: CBORLimits(maximumSize: 64 * 1024)) } catch {
            throw .malformed("InclusionProof: \(error)")
        }
        let fields = try MessageFields(item, type: MessageType.inclusionProof, name: "InclusionProof")
        epoch = try fields.bytes(2, "signed epoch root", count: 1...1024)
        message = try fields.bytes(3, "message", count: 1...(16 * 1024))
        devicePublicKey = try fields.bytes(4, "device public key", count: 32...32)
        leafIndex = try fields.uint(5, "leaf index")
        var path: [[UInt8]] = []
        for node in try fields.array(6, "audit path", maximum: 64) {
            guard let hash = node.bytes, hash.count == 32 else { throw .malformed("an audit path node is a 32-byte hash") }
            path.append(hash)
        }
        self.path = path
    }
}
