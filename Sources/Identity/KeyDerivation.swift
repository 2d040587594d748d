import Crypto
import CryptoExtras
import Wire

/// How a device's identity key comes from its secret and the PIN, and what
/// the aggregator keeps instead of the PIN.
///
/// ```
/// device:     pinKey   = scrypt(PIN, salt: "fieldproof/pin/v1" ‖ serial, N = 2^logN, r, p, 32 bytes)
///             seed     = HKDF-SHA256(secret ‖ pinKey, salt: "fieldproof/identity/v1", info: serial)
///             identity = Ed25519 private key with that 32-byte seed
/// aggregator: verifier = scrypt(PIN, salt: "fieldproof/pin-verifier/v2" ‖ random 16-byte salt, N, r, p, 32 bytes)
/// ```
///
/// The same secret and PIN give the same key; a new PIN gives a new key;
/// without the device secret no PIN gives the key. The aggregator never
/// stores the PIN: its verifier has a random salt per enrollment (no table
/// can be built in advance) and costs one scrypt per guess. The PIN itself
/// reaches the aggregator only inside the HPKE-sealed PairRequest.
public enum KeyDerivation {
    public static func pinKey(pin: PIN, serial: String, kdf: PairRequest.KDFParameters) throws(IdentityError) -> [UInt8] {
        try scrypt(Array(pin.digits.utf8), salt: Array("fieldproof/pin/v1".utf8) + Array(serial.utf8), kdf: kdf)
    }

    /// What an enrollment stores for its PIN.
    public static func pinVerifier(pin: PIN, salt: [UInt8], kdf: PairRequest.KDFParameters) throws(IdentityError) -> [UInt8] {
        try scrypt(Array(pin.digits.utf8), salt: Array("fieldproof/pin-verifier/v2".utf8) + salt, kdf: kdf)
    }

    public static func identitySeed(secret: DeviceSecret, pinKey: [UInt8], serial: String) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret.bytes + pinKey), salt: Array("fieldproof/identity/v1".utf8),
                               info: Array(serial.utf8), outputByteCount: 32).withUnsafeBytes { Array($0) }
    }

    public static func identityKey(secret: DeviceSecret, pinKey: [UInt8], serial: String) throws(IdentityError) -> Curve25519.Signing.PrivateKey {
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: identitySeed(secret: secret, pinKey: pinKey, serial: serial))
        } catch {
            throw .keyDerivation("Ed25519 key: \(error)")
        }
    }

    /// Constant-time comparison of two byte strings of equal length (a
    /// length difference returns at once: lengths here are public).
    public static func constantTimeEqual(_ expected: [UInt8], _ given: [UInt8]) -> Bool {
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }

    private static func scrypt(_ password: [UInt8], salt: [UInt8], kdf: PairRequest.KDFParameters) throws(IdentityError) -> [UInt8] {
        guard kdf.isWithinBounds else { throw .keyDerivation("scrypt parameters logN \(kdf.logN), r \(kdf.r), p \(kdf.p) are out of bounds") }
        do {
            let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: 32,
                                               rounds: 1 << Int(kdf.logN), blockSize: Int(kdf.r), parallelism: Int(kdf.p))
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .keyDerivation("scrypt: \(error)")
        }
    }
}
