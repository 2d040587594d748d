/// One signed message in the spool, with its sequence number and the wall
/// time (Unix ms) at which it was appended.
public struct SpoolRecord: Equatable, Sendable {
    public var sequence: UInt64
    public var appendedAt: UInt64
    public var payload: [UInt8]

    public init(sequence: UInt64, appendedAt: UInt64, payload: [UInt8]) {
        self.sequence = sequence
        self.appendedAt = appendedAt
        self.payload = payload
    }
}

/// The on-disk form of a record (all integers little-endian):
///
/// | bytes | field |
/// |---|---|
/// | 4 | magic `FPS1` |
/// | 4 | payload length |
/// | 8 | sequence |
/// | 8 | appended at (Unix ms) |
/// | 4 | CRC-32C over length, sequence, appended-at and payload |
/// | n | payload |
enum SpoolRecordFormat {
    static let magic: [UInt8] = Array("FPS1".utf8)
    static let headerSize = 28

    static func encode(_ record: SpoolRecord) -> [UInt8] {
        var checked: [UInt8] = []
        checked.reserveCapacity(20 + record.payload.count)
        append(UInt32(record.payload.count), to: &checked)
        append(record.sequence, to: &checked)
        append(record.appendedAt, to: &checked)
        checked.append(contentsOf: record.payload)
        var bytes = magic
        bytes.reserveCapacity(headerSize + record.payload.count)
        bytes.append(contentsOf: checked[0..<20])
        append(CRC32C.checksum(checked), to: &bytes)
        bytes.append(contentsOf: record.payload)
        return bytes
    }

    enum Decoded {
        case record(SpoolRecord, size: Int)
        /// Not a whole, valid record from here on: a torn or corrupt tail.
        case invalid
        case end
    }

    static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
        if offset == bytes.count { return .end }
        guard bytes.count - offset >= headerSize, Array(bytes[offset..<offset + 4]) == magic else { return .invalid }
        let length = Int(read(UInt32.self, bytes, offset + 4))
        guard length <= bytes.count - offset - headerSize else { return .invalid }
        let sequence = read(UInt64.self, bytes, offset + 8)
        let appendedAt = read(UInt64.self, bytes, offset + 16)
        let stored = read(UInt32.self, bytes, offset + 24)
        let payloadStart = offset + headerSize
        let crc = CRC32C.checksum(bytes[payloadStart..<payloadStart + length],
                                  seed: CRC32C.checksum(bytes[offset + 4..<offset + 24]))
        guard crc == stored else { return .invalid }
        return .record(SpoolRecord(sequence: sequence, appendedAt: appendedAt,
                                   payload: Array(bytes[payloadStart..<payloadStart + length])),
                       size: headerSize + length)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(bytes[offset + index])
        }
        return value
    }
}
