import Crypto
import Wire

/// The device's side of pairing.
public enum DevicePairing {
    /// What `fieldproof pair` sends, and the key it will keep if accepted.
    public struct Request: Sendable {
        /// The sealed request, as published.
        public var message: [UInt8]
        public var request: PairRequest
        public var identityKey: Curve25519.Signing.PrivateKey
        /// The aggregator key the answer must be signed with (the one the
        /// device checked against its fingerprint).
        public var aggregatorKey: Curve25519.Signing.PublicKey
    }

    public enum TrustError: Error, Equatable, Sendable, CustomStringConvertible {
        case unreadable(String)
        case fingerprintMismatch(expected: String, found: String)

        public var description: String {
            switch self {
            case let .unreadable(reason):
                return "the aggregator's key announcement is not valid (\(reason))"
            case let .fingerprintMismatch(expected, found):
                return "the aggregator's keys have fingerprint \(found), not \(expected) as given: this broker does not lead to the aggregator that enrolled this device — check the fingerprint with the operator"
            }
        }
    }

    /// The aggregator's keys from its announcement, trusted only when they
    /// have the fingerprint the operator gave (from `enroll`).
    public static func trustedKeys(announcement bytes: [UInt8], fingerprint: String) throws(TrustError) -> AggregatorKeys {
        let keys: AggregatorKeys
        do {
            let envelope = try COSESign1(decoding: bytes)
            keys = try AggregatorKeys(decoding: envelope.payload)
            guard let signer = try? Curve25519.Signing.PublicKey(rawRepresentation: keys.signingKey), envelope.keyID == KeyID.of(signer),
                  envelope.isValid(for: signer), (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: keys.pairingKey)) != nil else {
                throw TrustError.unreadable("its signature does not verify with the key it carries")
            }
        } catch let error as TrustError {
            throw error
        } catch {
            throw .unreadable("\(error)")
        }
        let found = KeyFingerprint.of(keys)
        let expected = KeyFingerprint.normalised(fingerprint) ?? fingerprint
        guard KeyDerivation.constantTimeEqual(Array(found.utf8), Array(expected.utf8)) else {
            throw .fingerprintMismatch(expected: expected, found: found)
        }
        return keys
    }

    /// Derives the identity key from the secret and the PIN (scrypt: the slow
    /// part), signs the request with it and seals it to the aggregator.
    public static func makeRequest(serial: String, pin: PIN, secret: DeviceSecret, board: String, sensors: [PairRequest.Sensor],
                                   time: UInt64, aggregator: AggregatorKeys, kdf: PairRequest.KDFParameters = .standard) throws -> Request {
        let pinKey = try KeyDerivation.pinKey(pin: pin, serial: serial, kdf: kdf)
        let identityKey = try KeyDerivation.identityKey(secret: secret, pinKey: pinKey, serial: serial)
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let request = PairRequest(serial: serial, publicKey: Array(identityKey.publicKey.rawRepresentation), board: board,
                                  sensors: sensors, nonce: nonce, time: time, pin: pin.digits)
        let signed = try COSESign1.sign(payload: request.encodeBody(), with: identityKey, keyID: KeyID.of(identityKey.publicKey))
        let sealed = try PairingSeal.seal(signed, serial: serial, to: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: aggregator.pairingKey))
        return Request(message: sealed.encode(), request: request, identityKey: identityKey,
                       aggregatorKey: try Curve25519.Signing.PublicKey(rawRepresentation: aggregator.signingKey))
    }

    /// Checks the aggregator's answer: signed by the aggregator key the
    /// device already trusts, for our request (its nonce), and — when it
    /// accepts — binding our key.
    public static func checkResponse(_ bytes: [UInt8], to request: Request) throws(WireError) -> PairResponse {
        let envelope = try COSESign1(decoding: bytes)
        guard envelope.keyID == KeyID.of(request.aggregatorKey), envelope.isValid(for: request.aggregatorKey) else {
            throw .malformed("the pairing answer is not signed by the aggregator this device trusts")
        }
        let response = try PairResponse(decodingBody: envelope.payload)
        guard response.serial == request.request.serial,
              KeyDerivation.constantTimeEqual(response.requestNonce, request.request.nonce) else {
            throw .malformed("the pairing answer is for another request")
        }
        if response.result == .accepted && response.boundKeyID != KeyID.of(request.identityKey.publicKey) {
            throw .malformed("the aggregator bound a different key")
        }
        return response
    }

    /// Checks an Ack with the pinned aggregator key; returns the sequence.
    public static func checkAck(_ bytes: [UInt8], serial: String, aggregatorKey: Curve25519.Signing.PublicKey) -> UInt64? {
        guard let envelope = try? COSESign1(decoding: bytes), envelope.keyID == KeyID.of(aggregatorKey),
              envelope.isValid(for: aggregatorKey), let ack = try? Ack(decoding: envelope.payload), ack.serial == serial else { return nil }
        return ack.highestContiguous
    }
}
