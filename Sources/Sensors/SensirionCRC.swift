/// Sensirion's CRC-8: polynomial 0x31, initial 0xFF, no reflection; the
/// datasheets' example is 0xBEEF → 0x92.
public enum SensirionCRC {
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt8 {
        var crc: UInt8 = 0xFF
        for byte in bytes {
            crc ^= byte
            for _ in 0..<8 {
                crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x31 : crc << 1
            }
        }
        return crc
    }

    /// Splits `[msb, lsb, crc]…` into words, checking each CRC.
    public static func words(_ bytes: [UInt8]) -> [UInt16]? {
        guard bytes.count % 3 == 0 else { return nil }
        var words: [UInt16] = []
        for index in stride(from: 0, to: bytes.count, by: 3) {
            guard checksum(bytes[index..<index + 2]) == bytes[index + 2] else { return nil }
            words.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        }
        return words
    }
}
