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
        guard let (name, key) = NoteEncoding.parseVerifierKey(text, type: Self.ed25519) else { throw .badVerifierKey(text) }
        try self.init(name: name, publicKey: key)
    }

    /// `<name>+<hex key ID>+<base64(0x01 || key)>`.
    public var verifierKey: String {
        NoteEncoding.verifierKey(name: name, type: Self.ed25519, publicKey: publicKey)
    }

    public static func == (lhs: NoteVerifier, rhs: NoteVerifier) -> Bool {
        lhs.name == rhs.name && lhs.keyID == rhs.keyID && lhs.publicKey.rawRepresentation == rhs.publicKey.rawRepresentation
    }

    public func isValidSignature(_ signature: [UInt8], for text: [UInt8]) -> Bool {
        publicKey.isValidSignature(signature, for: text)
    }

    static func keyID(name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
        NoteEncoding.keyID(name: name, type: ed25519, publicKey: publicKey)
    }

    /// Non-empty, no Unicode spaces, no "+" (the spec's rule), and no
    /// control characters (a note may hold none).
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 }
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
        let id = NoteEncoding.bytes(verifier.keyID)
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
