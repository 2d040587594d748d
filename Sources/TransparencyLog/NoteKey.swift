import Crypto

/// An Ed25519 key of a C2SP signed note (c2sp.org/signed-note): a name
/// and a public key, with the key ID the spec recommends,
/// SHA-256(name || 0x0A || 0x01 || public key)[:4].
public struct NoteVerifier: Sendable, Equatable {
    /// The signature type byte of Ed25519 notes.
    static let ed25519: UInt8 = 0x01

    public let name: String
    public let publicKey: Curve25519.Signing.PublicKey
    public let keyID: UInt32

    public init(name: String, publicKey: Curve25519.Signing.PublicKey) throws(NoteError) {
        guard Self.isValidName(name) else { throw .badKeyName(name) }
        self.name = name
        self.publicKey = publicKey
        keyID = Self.keyID(name: name, publicKey: publicKey)
    }

    /// Parses a verifier key, `<name>+<hex key ID>+<base64(0x01 || key)>`,
    /// as Go's `note.NewVerifier` reads it; the ID must match the key.
    public init(verifierKey text: String) throws(NoteError) {
        // Name and ID end at the first two "+"; base64 may hold more of them.
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let id = UInt32(parts[1], radix: 16),
              parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
              let material = Base64.decode(parts[2]), material.count == 33, material[0] == Self.ed25519,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: material[1...]) else {
            throw .badVerifierKey(text)
        }
        try self.init(name: String(parts[0]), publicKey: key)
        guard keyID == id else { throw .badVerifierKey(text) }
    }

    /// `<name>+<hex key ID>+<base64(0x01 || key)>`.
    public var verifierKey: String {
        "\(name)+\(Self.hex(keyID))+\(Base64.encode([Self.ed25519] + Array(publicKey.rawRepresentation)))"
    }

    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func isValidSignature(_ signature: [UInt8], for text: [UInt8]) -> Bool {
        publicKey.isValidSignature(signature, for: text)
    }

    static func keyID(name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, ed25519] + Array(publicKey.rawRepresentation)))
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Non-empty, no Unicode spaces, no "+" (the spec's rule), and no
    /// control characters (a note may hold none).
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// The signing side of a `NoteVerifier`.
public struct NoteSigner: Sendable {
    public let verifier: NoteVerifier
    private let key: Curve25519.Signing.PrivateKey

    public init(name: String, key: Curve25519.Signing.PrivateKey) throws(NoteError) {
        verifier = try NoteVerifier(name: name, publicKey: key.publicKey)
        self.key = key
    }

    /// The signature line for `text`: `— <name> base64(key ID || signature)`.
    func signatureLine(for text: [UInt8]) throws -> String {
        let signature = try key.signature(for: text)
        let id = withUnsafeBytes(of: verifier.keyID.bigEndian) { Array($0) }
        return "\u{2014} \(verifier.name) \(Base64.encode(id + Array(signature)))\n"
    }
}

public enum NoteError: Error, Equatable, CustomStringConvertible {
    case badKeyName(String)
    case badVerifierKey(String)
    case malformed(String)
    case tooLarge
    case noVerifiedSignature
    case invalidSignature(keyName: String)
    case signingFailed
    case notProven(String)

    public var description: String {
        switch self {
        case let .badKeyName(name): return "a note key name must be non-empty, without spaces or '+': \"\(name)\""
        case let .badVerifierKey(text): return "not an Ed25519 note verifier key (name+hexid+base64): \"\(text)\""
        case let .malformed(reason): return "not a signed note: \(reason)"
        case .tooLarge: return "the note is larger than a signed note may be here"
        case .noVerifiedSignature: return "no signature on the note is from a known key"
        case let .invalidSignature(name): return "the signature of known key \(name) does not verify"
        case .signingFailed: return "signing the note failed"
        case let .notProven(reason): return "the proof does not hold: \(reason)"
        }
    }
}
