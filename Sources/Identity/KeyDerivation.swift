import Crypto
import CryptoExtras
import Wire

/// How a device's identity key comes from its secret and the PIN, and what
/// the aggregator keeps instead of the PIN.
///
/// ```
/// pinKey    = scrypt(PIN, salt: "fieldproof/pin/v1" ‖ serial, N = 2^logN, r, p, 32 bytes)
/// macKey    = HKDF-SHA256(pinKey, salt: "fieldproof/pair-mac/v1", info: serial)   — the enrollment verifier
/// seed      = HKDF-SHA256(secret ‖ pinKey, salt: "fieldproof/identity/v1", info: serial)
/// identity  = Ed25519 private key with that 32-byte seed
/// ```
///
/// The same secret and PIN give the same key; a new PIN gives a new key;
/// without the device secret no PIN gives the key. The aggregator stores
/// `macKey`: it checks a pairing request's MAC, and getting the PIN back
/// from it means an scrypt per guess.
public enum KeyDerivation {
    public static func pinKey(pin: PIN, serial: String, kdf: PairRequest.KDFParameters) throws(IdentityError) -> [UInt8] {
        let salt = Array("fieldproof/pin/v1".utf8) + Array(serial.utf8)
        do {
            let key = try KDF.Scrypt.deriveKey(from: Array(pin.digits.utf8), salt: salt, outputByteCount: 32,
                                               rounds: 1 << Int(kdf.logN), blockSize: Int(kdf.r), parallelism: Int(kdf.p))
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .keyDerivation("scrypt: \(error)")
        }
    }

    public static func macKey(pinKey: [UInt8], serial: String) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: pinKey), salt: Array("fieldproof/pair-mac/v1".utf8),
                               info: Array(serial.utf8), outputByteCount: 32).withUnsafeBytes { Array($0) }
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

    public static func mac(key: [UInt8], body: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key)))
    }

    /// Constant-time comparison of two MACs.
    public static func macMatches(_ expected: [UInt8], _ given: [UInt8]) -> Bool {
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }
}
