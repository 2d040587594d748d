import Crypto
import Wire

/// The device's side of pairing.
public enum DevicePairing {
    /// What `fieldproof pair` sends, and the key it will keep if accepted.
    public struct Request: Sendable {
        public var message: [UInt8]
        public var request: PairRequest
        public var identityKey: Curve25519.Signing.PrivateKey
        public var macKey: [UInt8]
    }

    /// Derives the identity key from the secret and the PIN (scrypt: the slow
    /// part) and builds the signed, MACed PairRequest.
    public static func makeRequest(serial: String, pin: PIN, secret: DeviceSecret, board: String, sensors: [PairRequest.Sensor],
                                   time: UInt64, kdf: PairRequest.KDFParameters = .standard) throws -> Request {
        let pinKey = try KeyDerivation.pinKey(pin: pin, serial: serial, kdf: kdf)
        let identityKey = try KeyDerivation.identityKey(secret: secret, pinKey: pinKey, serial: serial)
        let macKey = KeyDerivation.macKey(pinKey: pinKey, serial: serial)
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let request = PairRequest(serial: serial, publicKey: Array(identityKey.publicKey.rawRepresentation), board: board,
                                  sensors: sensors, nonce: nonce, time: time, kdf: kdf)
        let body = request.encodeBody()
        let payload = MACedBody(body: body, mac: KeyDerivation.mac(key: macKey, body: body)).encode()
        let message = try COSESign1.sign(payload: payload, with: identityKey, keyID: KeyID.of(identityKey.publicKey))
        return Request(message: message, request: request, identityKey: identityKey, macKey: macKey)
    }

    /// Checks the aggregator's answer: its signature (by the aggregator key
    /// it carries), its MAC (only the holder of our enrollment can make it),
    /// that it answers our request, and that an acceptance binds our key.
    public static func checkResponse(_ bytes: [UInt8], to request: Request) throws(WireError) -> PairResponse {
        let envelope = try COSESign1(decoding: bytes)
        let maced = try MACedBody(decoding: envelope.payload)
        let response = try PairResponse(decodingBody: maced.body)
        // Only an acceptance must prove it comes from our enrollment's
        // holder (the MAC): the key it makes us pin is what everything else
        // rests on. A refusal cannot carry a MAC we can check (after a wrong
        // PIN our MAC key is not the enrollment's; an unknown serial has no
        // enrollment), and believing a forged refusal costs only a retry.
        let macOK = KeyDerivation.macMatches(KeyDerivation.mac(key: request.macKey, body: maced.body), maced.mac)
        guard macOK || response.result != .accepted else {
            throw .malformed("the pairing answer's MAC is wrong: it does not come from the aggregator that enrolled this device")
        }
        guard let aggregatorKey = try? Curve25519.Signing.PublicKey(rawRepresentation: response.aggregatorPublicKey),
              envelope.keyID == KeyID.of(aggregatorKey), envelope.isValid(for: aggregatorKey) else {
            throw .malformed("the pairing answer's signature does not verify")
        }
        guard response.serial == request.request.serial, response.requestNonce == request.request.nonce else {
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
