/// Sensirion's reply format for simulated chips: each 16-bit word followed
/// by its CRC-8 (polynomial 0x31, init 0xFF), written out here again so the
/// driver's CRC is checked against an independent one.
enum SensirionWords {
    static func crc(_ bytes: [UInt8]) -> UInt8 {
        var crc: UInt8 = 0xFF
        for byte in bytes {
            crc ^= byte
            for _ in 0..<8 { crc = (crc & 0x80) != 0 ? (crc << 1) ^ 0x31 : (crc << 1) }
        }
        return crc
    }

    static func encode(_ words: [UInt16], corruptFirstCRC: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, word) in words.enumerated() {
            let pair = [UInt8(word >> 8), UInt8(word & 0xFF)]
            bytes += pair + [crc(pair) ^ (corruptFirstCRC && index == 0 ? 0x5A : 0)]
        }
        return bytes
    }

    /// The raw signal for a value on a linear scale `value = offset + span·S/65535`.
    static func signal(_ value: Double, offset: Double, span: Double) -> UInt16 {
        UInt16(max(0, min(65535, ((value - offset) / span * 65535).rounded())))
    }
}
