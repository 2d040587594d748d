/// A small JSON writer (keys in the order given): for the commands' `--json`
/// output and the availability message, which are written and never read
/// back here. The status file, which is read back, goes through one
/// `Codable` type and `JSONEncoder`/`JSONDecoder` (DeviceStatus).
public indirect enum JSONText: Sendable {
    case string(String)
    case number(Double)
    case integer(Int64)
    case unsigned(UInt64)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([(String, JSONText)])

    public func render(indent: String = "", pretty: Bool = true) -> String {
        let newline = pretty ? "\n" : ""
        let inner = pretty ? indent + "  " : ""
        switch self {
        case let .string(text): return Self.quote(text)
        case let .number(value): return value.isFinite ? (value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)) : "null"
        case let .integer(value): return String(value)
        case let .unsigned(value): return String(value)
        case let .bool(value): return value ? "true" : "false"
        case .null: return "null"
        case let .array(items):
            if items.isEmpty { return "[]" }
            return "[" + newline + items.map { inner + $0.render(indent: inner, pretty: pretty) }.joined(separator: "," + newline) + newline + indent + "]"
        case let .object(pairs):
            if pairs.isEmpty { return "{}" }
            let separator = pretty ? ": " : ":"
            return "{" + newline + pairs.map { inner + Self.quote($0.0) + separator + $0.1.render(indent: inner, pretty: pretty) }
                .joined(separator: "," + newline) + newline + indent + "}"
        }
    }

    /// A quoted string: `"` and `\` escaped, control characters as
    /// `\u00XX`, everything else as UTF-8 (RFC 8259 §7).
    public static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
