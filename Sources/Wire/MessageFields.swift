/// Reading fields out of a decoded message map, with one-line reasons.
struct MessageFields {
    let map: CBOR
    let name: String

    init(_ item: CBOR, type: UInt64, name: String, version expected: UInt64 = 1) throws(WireError) {
        guard item.pairs != nil else { throw .malformed("\(name) must be a CBOR map") }
        self.map = item
        self.name = name
        guard map[0]?.uint64 == type else { throw .malformed("not a \(name) (field 0 must be \(type))") }
        guard map[1]?.uint64 == expected else {
            let version = map[1]?.uint64.map(String.init) ?? "missing"
            throw .malformed("\(name) version \(version) is not supported (\(expected) is)")
        }
        if let unknown = map.pairs?.first(where: { ($0.key.uint64 ?? .max) > 12 }) {
            throw .malformed("\(name) has an unknown field \(unknown.key)")
        }
    }

    func require(_ key: Int64, _ what: String) throws(WireError) -> CBOR {
        guard let value = map[key] else { throw .malformed("\(name) is missing field \(key) (\(what))") }
        return value
    }

    func text(_ key: Int64, _ what: String, maximum: Int = 256) throws(WireError) -> String {
        guard let text = try require(key, what).text, text.utf8.count <= maximum else {
            throw .malformed("\(name) field \(key) (\(what)) must be text of at most \(maximum) bytes")
        }
        return text
    }

    func uint(_ key: Int64, _ what: String) throws(WireError) -> UInt64 {
        guard let value = try require(key, what).uint64 else { throw .malformed("\(name) field \(key) (\(what)) must be an unsigned integer") }
        return value
    }

    func bytes(_ key: Int64, _ what: String, count: ClosedRange<Int>) throws(WireError) -> [UInt8] {
        guard let bytes = try require(key, what).bytes, count.contains(bytes.count) else {
            throw .malformed("\(name) field \(key) (\(what)) must be \(count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound)–\(count.upperBound)") bytes")
        }
        return bytes
    }

    func bool(_ key: Int64, _ what: String) throws(WireError) -> Bool {
        guard case let .bool(value) = try require(key, what) else { throw .malformed("\(name) field \(key) (\(what)) must be true or false") }
        return value
    }

    func array(_ key: Int64, _ what: String, maximum: Int) throws(WireError) -> [CBOR] {
        guard let items = try require(key, what).array, items.count <= maximum else {
            throw .malformed("\(name) field \(key) (\(what)) must be a list of at most \(maximum)")
        }
        return items
    }
}

/// Message type numbers (field 0 of every message).
public enum MessageType {
    public static let telemetry: UInt64 = 1
    public static let pairRequest: UInt64 = 2
    public static let pairResponse: UInt64 = 3
    public static let ack: UInt64 = 4
    public static let epochRoot: UInt64 = 5
    public static let inclusionProof: UInt64 = 6
    public static let aggregatorKeys: UInt64 = 7
    public static let keyEvent: UInt64 = 8
    public static let epochSummary: UInt64 = 9
    public static let logReceipt: UInt64 = 10
}

/// Topics (`fieldproof/v1/<serial>/…`).
public enum Topics {
    public static func telemetry(_ serial: String) -> String { "fieldproof/v1/\(serial)/telemetry" }
    public static func status(_ serial: String) -> String { "fieldproof/v1/\(serial)/status" }
    public static func pairRequest(_ serial: String) -> String { "fieldproof/v1/\(serial)/pair/req" }
    public static func pairResponse(_ serial: String) -> String { "fieldproof/v1/\(serial)/pair/resp" }
    public static func ack(_ serial: String) -> String { "fieldproof/v1/\(serial)/ack" }
    public static func logReceipt(_ serial: String) -> String { "fieldproof/v1/\(serial)/log" }
    public static func epoch(_ id: String) -> String { "fieldproof/v1/epochs/\(id)" }
    /// The aggregator's public keys (retained, signed): what a device
    /// checks against the fingerprint it was given before it pairs.
    public static let aggregatorKeys = "fieldproof/v1/aggregator/keys"
    /// The transparency log's newest signed checkpoint (retained).
    public static let logCheckpoint = "fieldproof/v1/log/checkpoint"

    /// The serial in `fieldproof/v1/<serial>/<kind…>`, when the topic has that
    /// shape (the serial a non-empty level). Compared byte by byte: this
    /// runs for every message the aggregator receives.
    public static func serial(in topic: String, kind: String) -> String? {
        let prefix = "fieldproof/v1/".utf8, suffix = kind.utf8, bytes = topic.utf8
        guard bytes.count > prefix.count + 1 + suffix.count, bytes.starts(with: prefix), bytes.reversed().starts(with: suffix.reversed()) else {
            return nil
        }
        let serialStart = bytes.index(bytes.startIndex, offsetBy: prefix.count)
        let serialEnd = bytes.index(bytes.endIndex, offsetBy: -suffix.count - 1)
        guard bytes[serialEnd] == UInt8(ascii: "/"), serialStart < serialEnd, !bytes[serialStart..<serialEnd].contains(UInt8(ascii: "/")) else {
            return nil
        }
        return String(topic[serialStart..<serialEnd])
    }
}

/// Serials (and sensor names): 1–64 of letters, digits, '-' and '_' — they
/// become MQTT topic levels.
public enum Serial {
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }

    /// Words a device's serial must not be, because the topic level or the
    /// broker username they would become already means something:
    /// `epochs` (`fieldproof/v1/epochs/#`, which every device reads and the
    /// aggregator writes: config/mosquitto/fieldproof.acl), `log` and
    /// `aggregator` (kept for the aggregator's own topics), and
    /// `fieldproof-aggregator` (the aggregator's username in that ACL; a
    /// device is its serial as username). `+`, `#` and `/` cannot occur
    /// (`isValid`). Compared ignoring case. Enrollment refuses these;
    /// decoding does not (a message under such a topic is refused as
    /// unenrolled).
    public static let reserved: Set<String> = ["epochs", "log", "aggregator", "fieldproof-aggregator"]

    public static func isReserved(_ text: String) -> Bool {
        reserved.contains(text.lowercased())
    }
}
