import Crypto
import Wire

/// The aggregator's side of pairing: checks a PairRequest against the
/// enrollment and answers.
public enum PairingAuthority {
    public enum Decision: Equatable, Sendable {
        /// Bind this key; the enrollment is now used.
        case accepted(publicKey: [UInt8], request: PairRequest)
        case wrongPIN(attemptsLeft: Int)
        case expired
        case locked
        case alreadyUsed
        case unknownSerial
        /// Too old, or from the future, by its own time, or a replay.
        case stale
        case malformed(String)
    }

    /// Verifies `bytes` (from `topic`) against `enrollment` (nil: unknown).
    /// Returns the decision and the enrollment as it must be saved.
    public static func verify(bytes: [UInt8], topic: String, enrollment: Enrollment?, now: UInt64,
                              maximumAge: UInt64 = 600_000) -> (Decision, Enrollment?) {
        let envelope: COSESign1
        let maced: MACedBody
        let request: PairRequest
        do {
            envelope = try COSESign1(decoding: bytes)
            maced = try MACedBody(decoding: envelope.payload)
            request = try PairRequest(decodingBody: maced.body)
        } catch {
            return (.malformed(error.description), enrollment)
        }
        guard Topics.serial(in: topic, kind: "pair/req") == request.serial else {
            return (.malformed("the request for \(request.serial) came on \(topic)"), enrollment)
        }
        // Proof of possession: the new key signed the request.
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey),
              envelope.keyID == KeyID.of(publicKey), envelope.isValid(for: publicKey) else {
            return (.malformed("the request is not signed by the key it carries"), enrollment)
        }
        guard var enrollment, enrollment.serial == request.serial else { return (.unknownSerial, enrollment) }
        if enrollment.used { return (.alreadyUsed, enrollment) }
        if enrollment.attemptsLeft <= 0 { return (.locked, enrollment) }
        if now > enrollment.expiresAt { return (.expired, enrollment) }
        if request.time + maximumAge < now || request.time > now + maximumAge { return (.stale, enrollment) }
        if enrollment.seenNonces.contains(request.nonce) { return (.stale, enrollment) }
        enrollment.seenNonces.append(request.nonce)
        if enrollment.seenNonces.count > Enrollment.rememberedNonces { enrollment.seenNonces.removeFirst() }
        guard request.kdf == enrollment.kdf,
              KeyDerivation.macMatches(KeyDerivation.mac(key: enrollment.verifier, body: maced.body), maced.mac) else {
            enrollment.attemptsLeft -= 1
            return (enrollment.attemptsLeft <= 0 ? .locked : .wrongPIN(attemptsLeft: enrollment.attemptsLeft), enrollment)
        }
        enrollment.used = true
        return (.accepted(publicKey: request.publicKey, request: request), enrollment)
    }

    /// The signed, MACed answer to `request` (the MAC key is the
    /// enrollment's verifier; without an enrollment there is nothing to MAC
    /// with, so the answer is signed only and the device will not trust it).
    public static func response(to request: PairRequest, decision: Decision, verifier: [UInt8]?,
                                aggregatorKey: Curve25519.Signing.PrivateKey, now: UInt64) throws -> [UInt8] {
        let result: PairResponse.Result
        var attemptsLeft: UInt64 = 0
        var bound: [UInt8] = []
        switch decision {
        case let .accepted(publicKey, _):
            result = .accepted
            bound = KeyID.of(rawPublicKey: publicKey)
        case let .wrongPIN(left):
            result = .wrongPIN
            attemptsLeft = UInt64(max(0, left))
        case .expired, .alreadyUsed: result = .expired
        case .locked: result = .locked
        case .unknownSerial: result = .unknownSerial
        case .stale, .malformed: result = .stale
        }
        let response = PairResponse(serial: request.serial, result: result, attemptsLeft: attemptsLeft, boundKeyID: bound,
                                    aggregatorPublicKey: Array(aggregatorKey.publicKey.rawRepresentation), requestNonce: request.nonce, time: now)
        let body = response.encodeBody()
        let mac = verifier.map { KeyDerivation.mac(key: $0, body: body) } ?? [UInt8](repeating: 0, count: 32)
        return try COSESign1.sign(payload: MACedBody(body: body, mac: mac).encode(), with: aggregatorKey, keyID: KeyID.of(aggregatorKey.publicKey))
    }

    /// A signed Ack.
    public static func ack(serial: String, upTo sequence: UInt64, aggregatorKey: Curve25519.Signing.PrivateKey, now: UInt64) throws -> [UInt8] {
        try COSESign1.sign(payload: Ack(serial: serial, highestContiguous: sequence, time: now).encode(), with: aggregatorKey,
                           keyID: KeyID.of(aggregatorKey.publicKey))
    }
}
