import TransparencyLog

/// What lets a device audit its own data in the transparency log (issue 16
/// item 4): a checkpoint, a consistency proof to it from the checkpoint
/// the device said it holds, and inclusion proofs for the device's newest
/// logged message and for the key event that binds its key. Published by
/// the aggregator, signed with its key (COSE_Sign1), retained on
/// `fieldproof/v1/<serial>/log`, once per published checkpoint for each
/// device whose messages it acknowledged since the last one.
///
/// Everything in it is checkable against the pinned aggregator key and the
/// device's own spooled bytes; the signature over the whole makes a
/// receipt whose proofs fail the aggregator's own signed statement, which
/// a forger without the key cannot produce to raise a false alarm.
public struct LogReceipt: Equatable, Sendable {
    /// A checkpoint note with a few cosignatures is well under this.
    public static let maximumCheckpointBytes = 8 * 1024

    public var serial: String
    /// The signed checkpoint note, as the log publishes it (with the
    /// witnesses' cosignatures when it has them).
    public var checkpoint: String
    /// The size of the log the device said it holds (its Telemetry's
    /// field 11; 0 when it holds none), and the consistency proof from it.
    public var consistencyFrom: UInt64
    public var consistency: [MerkleHash]
    /// The device's newest message in the checkpoint's tree.
    public var sequence: UInt64
    public var messageIndex: UInt64
    public var messageInclusion: [MerkleHash]
    /// The logged KeyEvent (its signed bytes) that binds the device's key,
    /// the newest for its serial in the checkpoint's tree.
    public var keyEvent: [UInt8]
    public var keyEventIndex: UInt64
    public var keyEventInclusion: [MerkleHash]
    /// Unix ms.
    public var time: UInt64

    public init(serial: String, checkpoint: String, consistencyFrom: UInt64, consistency: [MerkleHash], sequence: UInt64,
                messageIndex: UInt64, messageInclusion: [MerkleHash], keyEvent: [UInt8], keyEventIndex: UInt64,
                keyEventInclusion: [MerkleHash], time: UInt64) {
        self.serial = serial
        self.checkpoint = checkpoint
        self.consistencyFrom = consistencyFrom
        self.consistency = consistency
        self.sequence = sequence
        self.messageIndex = messageIndex
        self.messageInclusion = messageInclusion
        self.keyEvent = keyEvent
        self.keyEventIndex = keyEventIndex
        self.keyEventInclusion = keyEventInclusion
        self.time = time
    }

    public func encode() -> [UInt8] {
        func hashes(_ proof: [MerkleHash]) -> CBOR { .array(proof.map { .bytes($0.bytes) }) }
        return CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.logReceipt)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .text(checkpoint)),
            CBORPair(.int(4), .unsigned(consistencyFrom)),
            CBORPair(.int(5), hashes(consistency)),
            CBORPair(.int(6), .unsigned(sequence)),
            CBORPair(.int(7), .unsigned(messageIndex)),
            CBORPair(.int(8), hashes(messageInclusion)),
            CBORPair(.int(9), .bytes(keyEvent)),
            CBORPair(.int(10), .unsigned(keyEventIndex)),
            CBORPair(.int(11), hashes(keyEventInclusion)),
            CBORPair(.int(12), .unsigned(time)),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("LogReceipt payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.logReceipt, name: "LogReceipt")
        func proof(_ key: Int64, _ what: String) throws(WireError) -> [MerkleHash] {
            var hashes: [MerkleHash] = []
            for element in try fields.array(key, what, maximum: MerkleProof.maximumLength) {
                guard let bytes = element.bytes, let hash = MerkleHash(bytes: bytes) else {
                    throw .malformed("LogReceipt field \(key) (\(what)) must hold 32-byte hashes")
                }
                hashes.append(hash)
            }
            return hashes
        }
        serial = try fields.text(2, "serial", maximum: 64)
        checkpoint = try fields.text(3, "checkpoint", maximum: Self.maximumCheckpointBytes)
        consistencyFrom = try fields.uint(4, "consistency from")
        consistency = try proof(5, "consistency proof")
        sequence = try fields.uint(6, "sequence")
        messageIndex = try fields.uint(7, "message index")
        messageInclusion = try proof(8, "message inclusion proof")
        keyEvent = try fields.bytes(9, "key event", count: 1...1024)
        keyEventIndex = try fields.uint(10, "key event index")
        keyEventInclusion = try proof(11, "key event inclusion proof")
        time = try fields.uint(12, "time")
    }
}
