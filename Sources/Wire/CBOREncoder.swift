/// Core deterministic CBOR encoding (RFC 8949 §4.2.1).
public enum CBOREncoder {
    public static func encode(_ item: CBOR) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        append(item, to: &output)
        return output
    }

    static func append(_ item: CBOR, to output: inout [UInt8]) {
        switch item {
        case let .unsigned(value):
            appendHead(major: 0, value, to: &output)
        case let .negative(value):
            appendHead(major: 1, value, to: &output)
        case let .bytes(bytes):
            appendHead(major: 2, UInt64(bytes.count), to: &output)
            output.append(contentsOf: bytes)
        case let .text(text):
            let utf8 = Array(text.utf8)
            appendHead(major: 3, UInt64(utf8.count), to: &output)
            output.append(contentsOf: utf8)
        case let .array(items):
            appendHead(major: 4, UInt64(items.count), to: &output)
            for element in items { append(element, to: &output) }
        case let .map(pairs):
            appendHead(major: 5, UInt64(pairs.count), to: &output)
            // Keys sorted by their encoded bytes (bytewise lexicographic).
            let encoded = pairs.map { (key: encode($0.key), value: $0.value) }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for pair in encoded {
                output.append(contentsOf: pair.key)
                append(pair.value, to: &output)
            }
        case let .tagged(tag, content):
            appendHead(major: 6, tag, to: &output)
            append(content, to: &output)
        case let .bool(value):
            output.append(value ? 0xF5 : 0xF4)
        case .null:
            output.append(0xF6)
        case let .float(value):
            appendFloat(value, to: &output)
        }
    }

    /// The initial byte and the shortest argument for `value`.
    static func appendHead(major: UInt8, _ value: UInt64, to output: inout [UInt8]) {
        let type = major << 5
        switch value {
        case 0..<24:
            output.append(type | UInt8(value))
        case 24...0xFF:
            output.append(type | 24)
            output.append(UInt8(value))
        case 0x100...0xFFFF:
            output.append(type | 25)
            appendBigEndian(UInt16(value), to: &output)
        case 0x1_0000...0xFFFF_FFFF:
            output.append(type | 26)
            appendBigEndian(UInt32(value), to: &output)
        default:
            output.append(type | 27)
            appendBigEndian(value, to: &output)
        }
    }

    /// The shortest of half, single and double precision that holds the
    /// value exactly (preferred serialization, §4.1); NaN as 0xF97E00.
    static func appendFloat(_ value: Double, to output: inout [UInt8]) {
        if value.isNaN {
            output.append(contentsOf: [0xF9, 0x7E, 0x00])
            return
        }
        if let half = HalfFloat.bits(exactly: value) {
            output.append(0xF9)
            appendBigEndian(half, to: &output)
            return
        }
        let single = Float(value)
        if Double(single) == value {
            output.append(0xFA)
            appendBigEndian(single.bitPattern, to: &output)
            return
        }
        output.append(0xFB)
        appendBigEndian(value.bitPattern, to: &output)
    }

    /// How many bytes `appendFloat` writes for `value`.
    static func floatSize(_ value: Double) -> Int {
        if value.isNaN || HalfFloat.bits(exactly: value) != nil { return 3 }
        return Double(Float(value)) == value ? 5 : 9
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to output: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { output.append(contentsOf: $0) }
    }
}

/// IEEE 754 binary16 conversions (no reliance on `Float16`, which is not on
/// every platform Swift builds for).
enum HalfFloat {
    static func toDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 31: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// The binary16 bits of `value` when it converts without loss.
    static func bits(exactly value: Double) -> UInt16? {
        if value.isInfinite { return value < 0 ? 0xFC00 : 0x7C00 }
        if value == 0 { return value.sign == .minus ? 0x8000 : 0x0000 }
        let magnitude = abs(value)
        let sign: UInt16 = value < 0 ? 0x8000 : 0
        let exponent = magnitude.exponent
        if exponent < -24 || exponent > 15 { return nil }
        if exponent < -14 {
            // Subnormal: multiples of 2^-24.
            let scaled = magnitude * 0x1p24
            guard scaled == scaled.rounded(), scaled < 1024 else { return nil }
            return sign | UInt16(scaled)
        }
        let fraction = (magnitude / Double(sign: .plus, exponent: exponent, significand: 1) - 1) * 1024
        guard fraction == fraction.rounded() else { return nil }
        return sign | UInt16(exponent + 15) << 10 | UInt16(fraction)
    }
}
