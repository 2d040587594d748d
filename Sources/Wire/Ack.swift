/// The aggregator's acknowledgement: every sequence of `serial` up to
/// `highestContiguous` is committed. Published retained on
/// `fieldproof/v1/<serial>/ack`, signed by the aggregator; the device drops
/// spooled messages only up to it.
public struct Ack: Equatable, Sendable {
    public var serial: String
    public var highestContiguous: UInt64
    public var time: UInt64

    public init(serial: String, highestContiguous: UInt64, time: UInt64) {
        self.serial = serial
        self.highestContiguous = highestContiguous
        self.time = time
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.ack)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .unsigned(highestContiguous)),
            CBORPair(.int(4), .unsigned(time)),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("Ack payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.ack, name: "Ack")
        serial = try fields.text(2, "serial", maximum: 64)
        highestContiguous = try fields.uint(3, "highest contiguous sequence")
        time = try fields.uint(4, "time")
    }
}
