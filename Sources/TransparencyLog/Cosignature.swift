import Crypto
import FoundationEssentials

/// An Ed25519 cosigner (c2sp.org/tlog-cosignature, cosignature/v1): it
/// signs "cosignature/v1\ntime <T>\n" followed by a checkpoint's text, as a
/// note signature line of type 0x04 whose bytes are key ID, the 8-byte
/// big-endian timestamp and the signature.
public struct Cosigner: Sendable {
    /// The signature type of Ed25519 cosignatures.
    static let type: UInt8 = 0x04

    public let name: String
    private let key: Curve25519.Signing.PrivateKey
    public var publicKey: Curve25519.Signing.PublicKey { key.publicKey }
    public let keyID: UInt32

    public init(name: String, key: Curve25519.Signing.PrivateKey) throws(NoteError) {
        guard NoteVerifier.isValidName(name) else { throw .badKeyName(name) }
        self.name = name
        self.key = key
        keyID = Self.keyID(name: name, publicKey: key.publicKey)
    }

    /// The verifier key, `<name>+<hex ID>+base64(0x04 || key)`.
    public var verifierKey: String {
        NoteEncoding.verifierKey(name: name, type: Self.type, publicKey: publicKey)
    }

    /// The cosignature line for `checkpoint` at `time` (POSIX seconds).
    public func cosign(_ checkpoint: Checkpoint, time: UInt64) throws(NoteError) -> String {
        guard time > 0, time <= UInt64(Int64.max) else { throw .signingFailed }
        let signature: Data
        do { signature = try key.signature(for: Self.message(checkpoint, time: time)) } catch { throw .signingFailed }
        let id = NoteEncoding.bytes(keyID)
        let stamp = withUnsafeBytes(of: time.bigEndian) { Array($0) }
        return "\u{2014} \(name) \(Base64.encode(id + stamp + Array(signature)))\n"
    }

    /// Checks a cosignature line from the cosigner `name` with `publicKey`:
    /// the time it states when it verifies, nil otherwise.
    public static func verify(line: String, checkpoint: Checkpoint, name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt64? {
        let prefix = "\u{2014} \(name) "
        guard line.hasPrefix(prefix), line.hasSuffix("\n"),
              let bytes = Base64.decode(line.dropFirst(prefix.count).dropLast()), bytes.count == 4 + 8 + 64 else { return nil }
        let id = NoteEncoding.uint32(bytes[...])
        let time = bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard id == keyID(name: name, publicKey: publicKey), time > 0, time <= UInt64(Int64.max),
              publicKey.isValidSignature(bytes[12...], for: message(checkpoint, time: time)) else { return nil }
        return time
    }

    static func message(_ checkpoint: Checkpoint, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n\(checkpoint.text)".utf8)
    }

    static func keyID(name: String, publicKey: Curve25519.Signing.PublicKey) -> UInt32 {
        NoteEncoding.keyID(name: name, type: type, publicKey: publicKey)
    }
}
