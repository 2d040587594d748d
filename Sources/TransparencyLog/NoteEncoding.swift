import Crypto

/// The text forms C2SP signed notes share, written once for note keys
/// (type 0x01) and cosigner keys (type 0x04): key IDs, verifier keys,
/// big-endian IDs in signatures, and decimals without leading zeros.
enum NoteEncoding {
    /// SHA-256(name || 0x0A || type || public key)[:4], big-endian.
    static func keyID(name: String, type: UInt8, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
        uint32(Array(SHA256.hash(data: Array(name.utf8) + [0x0A, type] + Array(publicKey.rawRepresentation)))[...])
    }

    /// `<name>+<hex key ID>+base64(type || public key)`.
    static func verifierKey(name: String, type: UInt8, publicKey: Curve25519.Signing.PublicKey) -> String {
        "\(name)+\(hex(keyID(name: name, type: type, publicKey: publicKey)))+\(Base64.encode([type] + Array(publicKey.rawRepresentation)))"
    }

    /// A verifier key of `type`, as Go's `note.NewVerifier` reads it: a
    /// valid name, eight lowercase hex digits that are the key's ID, and an
    /// Ed25519 key. Name and ID end at the first two "+"; base64 may hold
    /// more of them.
    static func parseVerifierKey(_ text: String, type: UInt8) -> (name: String, publicKey: Curve25519.Signing.PublicKey)? {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              let id = UInt32(parts[1], radix: 16), NoteVerifier.isValidName(String(parts[0])),
              let material = Base64.decode(parts[2]), material.count == 33, material[0] == type,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: material[1...]),
              keyID(name: String(parts[0]), type: type, publicKey: key) == id else { return nil }
        return (String(parts[0]), key)
    }

    static func bytes(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// The first four bytes, big-endian.
    static func uint32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// ASCII digits with no leading zero (unless "0"), within UInt64.
    static func decimal(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), text == "0" || !text.hasPrefix("0") else { return nil }
        return UInt64(text)
    }
}
