/// Reads a message map field by field straight off the bytes, without a
/// `CBOR` tree: the verifier decodes every Telemetry it receives, and
/// building the tree (a heap box per item) cost as much as the signature
/// check's margin. Same rules as `CBORDecoder` plus `MessageFields`: core
/// deterministic CBOR, the message limits, integer keys in ascending order,
/// field 0 the type and field 1 version 1, no field above 12, nothing after
/// the map. Errors have the same one-line reasons.
struct MessageReader {
    private var decoder: CBORDecoder
    let name: String
    private var remaining: Int
    private var lastKey: UInt64 = 1

    init(_ bytes: [UInt8], type: UInt64, name: String) throws(WireError) {
        guard bytes.count <= CBORLimits.message.maximumSize else {
            throw .malformed("\(name) payload: \(CBORError.tooLarge(size: bytes.count, limit: CBORLimits.message.maximumSize))")
        }
        self.decoder = CBORDecoder(bytes: bytes, limits: .message)
        self.name = name
        self.remaining = 0
        guard case let .map(count) = try token(depth: 0) else { throw .malformed("\(name) must be a CBOR map") }
        guard count >= 2, case .unsigned(0) = try token(depth: 1), case .unsigned(type) = try token(depth: 1) else {
            throw .malformed("not a \(name) (field 0 must be \(type))")
        }
        guard case .unsigned(1) = try token(depth: 1) else { throw .malformed("\(name) version missing is not supported (1 is)") }
        guard case let .unsigned(version) = try token(depth: 1) else { throw .malformed("\(name) version must be an unsigned integer") }
        guard version == 1 else { throw .malformed("\(name) version \(version) is not supported (1 is)") }
        remaining = count - 2
    }

    /// The next field's key, or nil after the last field (and then the
    /// input must be at its end).
    mutating func nextKey() throws(WireError) -> UInt64? {
        guard remaining > 0 else {
            do { try decoder.requireEnd() } catch { throw .malformed("\(name) payload: \(error)") }
            return nil
        }
        remaining -= 1
        let token = try token(depth: 1)
        guard case let .unsigned(key) = token, key <= 12 else { throw .malformed("\(name) has an unknown field \(token)") }
        // Shortest-form unsigned keys sort by their bytes as by their value.
        guard key > lastKey else { throw .malformed("\(name) payload: map keys out of order or repeated at field \(key)") }
        lastKey = key
        return key
    }

    mutating func token(depth: Int) throws(WireError) -> CBORToken {
        do { return try decoder.token(depth: depth) } catch { throw .malformed("\(name) payload: \(error)") }
    }

    /// Reads and checks a whole item nobody asked for (field 12 is
    /// reserved: accepted and ignored).
    mutating func skip(depth: Int) throws(WireError) {
        do { _ = try decoder.item(depth: depth) } catch { throw .malformed("\(name) payload: \(error)") }
    }

    func bytes(_ range: Range<Int>) -> [UInt8] { Array(decoder.bytes[range]) }

    func missing(_ key: Int64, _ what: String) -> WireError { .malformed("\(name) is missing field \(key) (\(what))") }

    mutating func text(_ key: Int64, _ what: String, maximum: Int = 256) throws(WireError) -> String {
        guard case let .text(text) = try token(depth: 1), text.utf8.count <= maximum else {
            throw .malformed("\(name) field \(key) (\(what)) must be text of at most \(maximum) bytes")
        }
        return text
    }

    mutating func uint(_ key: Int64, _ what: String) throws(WireError) -> UInt64 {
        guard case let .unsigned(value) = try token(depth: 1) else { throw .malformed("\(name) field \(key) (\(what)) must be an unsigned integer") }
        return value
    }

    mutating func bytes(_ key: Int64, _ what: String, count: Int) throws(WireError) -> [UInt8] {
        guard case let .bytes(range) = try token(depth: 1), range.count == count else {
            throw .malformed("\(name) field \(key) (\(what)) must be \(count) bytes")
        }
        return bytes(range)
    }

    mutating func bool(_ key: Int64, _ what: String) throws(WireError) -> Bool {
        guard case let .bool(value) = try token(depth: 1) else { throw .malformed("\(name) field \(key) (\(what)) must be true or false") }
        return value
    }

    /// The element count of a list field; the caller reads the elements.
    mutating func arrayCount(_ key: Int64, _ what: String, maximum: Int) throws(WireError) -> Int {
        guard case let .array(count) = try token(depth: 1), count <= maximum else {
            throw .malformed("\(name) field \(key) (\(what)) must be a list of at most \(maximum)")
        }
        return count
    }
}
