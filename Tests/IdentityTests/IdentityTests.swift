import Crypto
import CryptoExtras
import Foundation
@testable import Identity
import Testing
import Wire

let fastKDF = PairRequest.KDFParameters(logN: 10, r: 8, p: 1)

@Suite struct PINTests {
    @Test func rules() throws {
        #expect(try PIN(validating: "123456").digits == "123456")
        #expect(try PIN(validating: "0123456789").digits.count == 10)
        #expect(throws: IdentityError.pinLength(5)) { try PIN(validating: "12345") }
        #expect(throws: IdentityError.pinLength(11)) { try PIN(validating: "12345678901") }
        #expect(throws: IdentityError.pinNotDigits) { try PIN(validating: "12345a") }
        #expect(throws: IdentityError.pinNotDigits) { try PIN(validating: "١٢٣٤٥٦") }
        #expect(String(describing: try PIN(validating: "987654")) == "PIN(6 digits)", "never printed")
        let generated = (0..<200).map { _ in PIN.random(length: 8).digits }
        #expect(generated.allSatisfy { $0.count == 8 })
        #expect(Set(generated).count > 190)
    }
}

@Suite struct DeviceSecretTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString.prefix(8))").path

    @Test func createdOnceWithMode0600() throws {
        let first = try DeviceSecret.loadOrCreate(at: path)
        let again = try DeviceSecret.loadOrCreate(at: path)
        #expect(first == again && first.bytes.count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(first.bytes != (try DeviceSecret.loadOrCreate(at: path + "-other")).bytes)
        #expect(String(describing: first) == "DeviceSecret(32 bytes)")
    }

    @Test func aSecretOthersCanReadIsRefusedWithTheFix() throws {
        _ = try DeviceSecret.loadOrCreate(at: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect {
            _ = try DeviceSecret.loadOrCreate(at: path)
        } throws: { error in
            String(describing: error).contains("chmod 600 \(path)")
        }
    }

    /// A crash between writing the temporary and renaming it leaves the
    /// temporary behind; O_TRUNC keeps its mode, so a world-readable one
    /// must not carry the new secret.
    @Test func aLeftoverTemporaryDoesNotLendItsModeToTheSecret() throws {
        try Data([9]).write(to: URL(fileURLWithPath: path + ".tmp"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path + ".tmp")
        _ = try DeviceSecret.loadOrCreate(at: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try DeviceSecret.load(at: path)?.bytes.count == 32)
    }

    @Test func anOversizedSecretFileIsRefused() throws {
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(throws: IdentityError.fileSystem(path: path, reason: "larger than a secret file can be")) { try DeviceSecret.load(at: path) }
    }

    @Test func aTruncatedSecretIsRefused() throws {
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(throws: IdentityError.secretFileCorrupt(path: path, size: 3)) { try DeviceSecret.load(at: path) }
    }
}

@Suite struct KeyDerivationTests {
    let secret = DeviceSecret(bytes: [UInt8](repeating: 0xA5, count: 32))

    @Test func sameSecretAndPINSameKeyNewPINNewKey() throws {
        let pin = try PIN(validating: "246810")
        let pinKey = try KeyDerivation.pinKey(pin: pin, serial: "fp-0001", kdf: fastKDF)
        let key = try KeyDerivation.identityKey(secret: secret, pinKey: pinKey, serial: "fp-0001")
        let again = try KeyDerivation.identityKey(secret: secret, pinKey: try KeyDerivation.pinKey(pin: pin, serial: "fp-0001", kdf: fastKDF), serial: "fp-0001")
        #expect(key.rawRepresentation == again.rawRepresentation)
        let otherPIN = try KeyDerivation.pinKey(pin: try PIN(validating: "246811"), serial: "fp-0001", kdf: fastKDF)
        #expect(try KeyDerivation.identityKey(secret: secret, pinKey: otherPIN, serial: "fp-0001").rawRepresentation != key.rawRepresentation)
        let otherSerial = try KeyDerivation.pinKey(pin: pin, serial: "fp-0002", kdf: fastKDF)
        #expect(otherSerial != pinKey, "the salt binds the serial")
    }

    @Test func theStandardParametersAreScryptN32768() throws {
        let pin = try PIN(validating: "12345678")
        let standard = try KeyDerivation.pinKey(pin: pin, serial: "fp-0001", kdf: .standard)
        let expected = try KDF.Scrypt.deriveKey(from: Array("12345678".utf8), salt: Array("fieldproof/pin/v1fp-0001".utf8),
                                                outputByteCount: 32, rounds: 32768, blockSize: 8, parallelism: 1)
        #expect(standard == expected.withUnsafeBytes { Array($0) })
    }

    /// Even the strongest eavesdropper — one holding the aggregator's
    /// private key, so the captured PairRequest opens and shows the PIN —
    /// cannot make the device's key: it also needs the device secret.
    @Test func aCapturedRequestAndThePINDoNotGiveTheKey() throws {
        let pin = try PIN(validating: "13572468")
        let aggregator = try AggregatorIdentity(seed: [UInt8](repeating: 0x44, count: 32))
        let pairing = try DevicePairing.makeRequest(serial: "fp-0001", pin: pin, secret: secret, board: "test", sensors: [], time: 1,
                                                    aggregator: aggregator.publicKeys, kdf: fastKDF)
        let opened = try #require(PairingSeal.open(try SealedPairRequest(decoding: pairing.message), with: aggregator.pairingKey))
        let request = try PairRequest(decodingBody: try COSESign1(decoding: opened).payload)
        #expect(request.pin == pin.digits)
        let pinKey = try KeyDerivation.pinKey(pin: try PIN(validating: request.pin), serial: request.serial, kdf: fastKDF)
        // The attacker's best guesses for the secret: none, zeros, random.
        var generator = SystemRandomNumberGenerator()
        for guess in [[UInt8](), [UInt8](repeating: 0, count: 32), (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }] {
            let key = try KeyDerivation.identityKey(secret: DeviceSecret(bytes: guess), pinKey: pinKey, serial: request.serial)
            #expect(Array(key.publicKey.rawRepresentation) != request.publicKey)
        }
        // With the secret it is reproduced (so the check above means something).
        #expect(Array(try KeyDerivation.identityKey(secret: secret, pinKey: pinKey, serial: "fp-0001").publicKey.rawRepresentation) == request.publicKey)
    }
}
