/// Why bytes are not acceptable CBOR for us. Each case is a one-line reason.
public enum CBORError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case trailingBytes(offset: Int)
    case indefiniteLength(offset: Int)
    case reservedAdditionalInformation(offset: Int)
    case nonShortestForm(offset: Int)
    case nonPreferredFloat(offset: Int)
    case unknownSimpleValue(UInt8, offset: Int)
    case invalidUTF8(offset: Int)
    case duplicateMapKey(offset: Int)
    case unsortedMapKeys(offset: Int)
    case tooDeep(limit: Int)
    case tooManyItems(limit: Int)
    case tooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .truncated(offset): return "CBOR ends early at byte \(offset)"
        case let .trailingBytes(offset): return "bytes left over after the CBOR item, from byte \(offset)"
        case let .indefiniteLength(offset): return "indefinite length at byte \(offset) (only definite lengths are allowed)"
        case let .reservedAdditionalInformation(offset): return "reserved additional information at byte \(offset)"
        case let .nonShortestForm(offset): return "integer or length at byte \(offset) is not in its shortest form"
        case let .nonPreferredFloat(offset): return "float at byte \(offset) is not in its shortest exact form"
        case let .unknownSimpleValue(value, offset): return "simple value \(value) at byte \(offset) is not false, true or null"
        case let .invalidUTF8(offset): return "text string at byte \(offset) is not valid UTF-8"
        case let .duplicateMapKey(offset): return "duplicate map key at byte \(offset)"
        case let .unsortedMapKeys(offset): return "map keys at byte \(offset) are not in deterministic order"
        case let .tooDeep(limit): return "nested deeper than \(limit) levels"
        case let .tooManyItems(limit): return "more than \(limit) data items"
        case let .tooLarge(size, limit): return "\(size) bytes is over the \(limit)-byte limit"
        }
    }
}

/// The head of one data item, as `CBORDecoder.token(depth:)` reads it.
enum CBORToken {
    case unsigned(UInt64)
    /// The negative integer −1 − n.
    case negative(UInt64)
    /// Where the string's bytes are in the input.
    case bytes(Range<Int>)
    case text(String)
    case array(count: Int)
    case map(count: Int)
    case tag(UInt64)
    case bool(Bool)
    case null
    case float(Double)
}

/// Limits that bound the work and memory any input can cause.
public struct CBORLimits: Equatable, Sendable {
    public var maximumSize: Int
    public var maximumDepth: Int
    public var maximumItems: Int

    public init(maximumSize: Int = 16 * 1024, maximumDepth: Int = 16, maximumItems: Int = 4096) {
        self.maximumSize = maximumSize
        self.maximumDepth = maximumDepth
        self.maximumItems = maximumItems
    }

    /// The default message cap: 16 KiB.
    public static let message = CBORLimits()
}

/// A strict decoder for core deterministic CBOR: it rejects indefinite
/// lengths, non-shortest integers, lengths and floats, duplicate or
/// unsorted map keys, trailing bytes, simple values other than
/// false/true/null, and invalid UTF-8. Every length is checked against the
/// remaining input before anything is allocated, so memory stays within a
/// small multiple of the input size.
public struct CBORDecoder {
    public static func decode(_ bytes: [UInt8], limits: CBORLimits = .message) throws(CBORError) -> CBOR {
        guard bytes.count <= limits.maximumSize else { throw .tooLarge(size: bytes.count, limit: limits.maximumSize) }
        var decoder = CBORDecoder(bytes: bytes, limits: limits)
        let item = try decoder.item(depth: 0)
        try decoder.requireEnd()
        return item
    }

    let bytes: [UInt8]
    let limits: CBORLimits
    var offset = 0
    var items = 0

    init(bytes: [UInt8], limits: CBORLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func byte() throws(CBORError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func take(_ count: Int) throws(CBORError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func bigEndian(_ count: Int) throws(CBORError) -> UInt64 {
        var value: UInt64 = 0
        for byte in try take(count) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// The argument of a head; rejects non-shortest forms.
    mutating func argument(_ info: UInt8, at start: Int) throws(CBORError) -> UInt64 {
        switch info {
        case 0..<24:
            return UInt64(info)
        case 24:
            let value = try bigEndian(1)
            guard value >= 24 else { throw .nonShortestForm(offset: start) }
            return value
        case 25:
            let value = try bigEndian(2)
            guard value > 0xFF else { throw .nonShortestForm(offset: start) }
            return value
        case 26:
            let value = try bigEndian(4)
            guard value > 0xFFFF else { throw .nonShortestForm(offset: start) }
            return value
        case 27:
            let value = try bigEndian(8)
            guard value > 0xFFFF_FFFF else { throw .nonShortestForm(offset: start) }
            return value
        case 31:
            throw .indefiniteLength(offset: start)
        default:
            throw .reservedAdditionalInformation(offset: start)
        }
    }

    mutating func length(_ info: UInt8, at start: Int, minimumItemSize: Int) throws(CBORError) -> Int {
        let value = try argument(info, at: start)
        // Each element needs at least `minimumItemSize` more input bytes.
        guard value <= UInt64(bytes.count - offset) / UInt64(max(1, minimumItemSize)) else { throw .truncated(offset: start) }
        return Int(value)
    }

    /// The head of the next data item, with strings read whole; counted
    /// against the item and depth limits. Arrays and maps give their count:
    /// the caller reads that many items next (maps: key, value, key, …), so
    /// a known message shape can be read without building a tree.
    mutating func token(depth: Int) throws(CBORError) -> CBORToken {
        guard depth <= limits.maximumDepth else { throw .tooDeep(limit: limits.maximumDepth) }
        items += 1
        guard items <= limits.maximumItems else { throw .tooManyItems(limit: limits.maximumItems) }
        let start = offset
        let initial = try byte()
        let major = initial >> 5
        let info = initial & 0x1F
        switch major {
        case 0:
            return .unsigned(try argument(info, at: start))
        case 1:
            return .negative(try argument(info, at: start))
        case 2:
            let count = try length(info, at: start, minimumItemSize: 1)
            return .bytes(try take(count).indices)
        case 3:
            let count = try length(info, at: start, minimumItemSize: 1)
            guard let text = String(validating: try take(count), as: UTF8.self) else { throw .invalidUTF8(offset: start) }
            return .text(text)
        case 4:
            return .array(count: try length(info, at: start, minimumItemSize: 1))
        case 5:
            return .map(count: try length(info, at: start, minimumItemSize: 2))
        case 6:
            return .tag(try argument(info, at: start))
        default:
            return try simpleOrFloat(info, at: start)
        }
    }

    /// The next data item as a tree.
    mutating func item(depth: Int) throws(CBORError) -> CBOR {
        switch try token(depth: depth) {
        case let .unsigned(value): return .unsigned(value)
        case let .negative(value): return .negative(value)
        case let .bytes(range): return .bytes(Array(bytes[range]))
        case let .text(text): return .text(text)
        case let .array(count):
            var elements: [CBOR] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try item(depth: depth + 1)) }
            return .array(elements)
        case let .map(count):
            var pairs: [CBORPair] = []
            pairs.reserveCapacity(count)
            var previousKey: ArraySlice<UInt8>? = nil
            for _ in 0..<count {
                let keyStart = offset
                let key = try item(depth: depth + 1)
                let keyBytes = bytes[keyStart..<offset]
                if let previousKey {
                    if previousKey == keyBytes { throw .duplicateMapKey(offset: keyStart) }
                    if !previousKey.lexicographicallyPrecedes(keyBytes) { throw .unsortedMapKeys(offset: keyStart) }
                }
                previousKey = keyBytes
                pairs.append(CBORPair(key, try item(depth: depth + 1)))
            }
            return .map(pairs)
        case let .tag(tag): return .tagged(tag, try item(depth: depth + 1))
        case let .bool(value): return .bool(value)
        case .null: return .null
        case let .float(value): return .float(value)
        }
    }

    /// Throws unless every byte has been read.
    func requireEnd() throws(CBORError) {
        guard offset == bytes.count else { throw .trailingBytes(offset: offset) }
    }

    mutating func simpleOrFloat(_ info: UInt8, at start: Int) throws(CBORError) -> CBORToken {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 25:
            let bits = UInt16(try bigEndian(2))
            let value = HalfFloat.toDouble(bits)
            if value.isNaN && bits != 0x7E00 { throw .nonPreferredFloat(offset: start) }
            return .float(value)
        case 26:
            let value = Double(Float(bitPattern: UInt32(try bigEndian(4))))
            try requirePreferred(value, encodedSize: 5, at: start)
            return .float(value)
        case 27:
            let value = Double(bitPattern: try bigEndian(8))
            try requirePreferred(value, encodedSize: 9, at: start)
            return .float(value)
        case 24:
            let value = UInt8(try bigEndian(1))
            throw .unknownSimpleValue(value, offset: start)
        case 28, 29, 30:
            throw .reservedAdditionalInformation(offset: start)
        case 31:
            throw .indefiniteLength(offset: start)
        default:
            throw .unknownSimpleValue(info, offset: start)
        }
    }

    /// A float must use the shortest exact form (NaN only as half 0x7E00).
    func requirePreferred(_ value: Double, encodedSize: Int, at start: Int) throws(CBORError) {
        if CBOREncoder.floatSize(value) != encodedSize { throw .nonPreferredFloat(offset: start) }
    }
}
