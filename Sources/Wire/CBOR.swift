/// A CBOR data item (RFC 8949), limited to what Fieldproof's messages use:
/// integers, byte and text strings, arrays, maps, tags, false/true/null and
/// floating-point numbers.
///
/// Encoding is always *core deterministic* (RFC 8949 §4.2.1): shortest
/// integer, length and float forms, definite lengths, map keys sorted by
/// their encoded bytes. Decoding (`CBORDecoder`) accepts nothing else.
public indirect enum CBOR: Equatable, Sendable {
    case unsigned(UInt64)
    /// The negative integer −1 − n.
    case negative(UInt64)
    case bytes([UInt8])
    case text(String)
    case array([CBOR])
    /// Pairs in any order; the encoder sorts them.
    case map([CBORPair])
    case tagged(UInt64, CBOR)
    case bool(Bool)
    case null
    case float(Double)

    public static func int(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }

    /// The value as a signed integer, when it is an integer that fits.
    public var int64: Int64? {
        switch self {
        case let .unsigned(value): return value <= UInt64(Int64.max) ? Int64(value) : nil
        case let .negative(value): return value <= UInt64(Int64.max) ? -1 - Int64(value) : nil
        default: return nil
        }
    }

    public var uint64: UInt64? {
        if case let .unsigned(value) = self { return value }
        return nil
    }

    public var text: String? {
        if case let .text(value) = self { return value }
        return nil
    }

    public var bytes: [UInt8]? {
        if case let .bytes(value) = self { return value }
        return nil
    }

    public var array: [CBOR]? {
        if case let .array(value) = self { return value }
        return nil
    }

    public var pairs: [CBORPair]? {
        if case let .map(value) = self { return value }
        return nil
    }

    /// The value of a non-negative integer key in a map.
    public subscript(key: Int64) -> CBOR? {
        guard case let .map(pairs) = self, key >= 0 else { return nil }
        for pair in pairs {
            if case let .unsigned(value) = pair.key, value == UInt64(key) { return pair.value }
        }
        return nil
    }
}

public struct CBORPair: Equatable, Sendable {
    public var key: CBOR
    public var value: CBOR

    public init(_ key: CBOR, _ value: CBOR) {
        self.key = key
        self.value = value
    }
}
