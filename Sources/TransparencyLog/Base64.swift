import FoundationEssentials

/// Standard base64 (RFC 4648 §4, padded), as the C2SP formats use it.
/// Decoding accepts only the canonical form (it must encode back to the
/// same text), so one value has one text and nothing is smuggled in pad
/// bits.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard let data = Data(base64Encoded: String(text)), data.base64EncodedString() == text else { return nil }
        return Array(data)
    }
}
