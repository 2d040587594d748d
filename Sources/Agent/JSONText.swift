/// JSON written by hand, for the one document the daemon writes on every
/// tick (`DeviceStatus`). Foundation's `JSONEncoder` works through generic
/// `Encodable` containers, key sorting and boxing; its code was a large part
/// of what the sampling loop kept resident (see `StartupPages`), for a
/// document of a dozen fields. Readers still use `JSONDecoder`.
enum JSONText {
    /// `{"key": value, …}` with the members whose value is not nil, in the
    /// order given.
    static func object(_ members: KeyValuePairs<String, String?>) -> String {
        var text = "{"
        var first = true
        for (key, value) in members {
            guard let value else { continue }
            if !first { text += ", " }
            first = false
            text += string(key) + ": " + value
        }
        return text + "}"
    }

    static func array(_ items: [String]) -> String {
        "[" + items.joined(separator: ", ") + "]"
    }

    /// A quoted string: `"` and `\` escaped, control characters as
    /// `\u00XX`, everything else as UTF-8 (RFC 8259 §7).
    static func string(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    /// A number in Swift's shortest round-tripping form, which is valid
    /// JSON (`21.5`, `1e-07`); nil for NaN and infinities, which JSON
    /// cannot carry.
    static func number(_ value: Double) -> String? {
        value.isFinite ? "\(value)" : nil
    }

    static func number<Integer: BinaryInteger>(_ value: Integer) -> String { "\(value)" }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }
}
