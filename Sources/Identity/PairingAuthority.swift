import Crypto
import Wire

/// The aggregator's side of pairing, as pure steps the stores run around
/// their transactions:
///
/// 1. `open`: the sealed request decrypted with the aggregator's pairing
///    key and its proof of possession checked (no store, no attempt spent:
///    what the broker or anyone injects without the key fails here);
/// 2. `reserve`: with the stored enrollment, inside the store's
///    transaction — refused (revoked, unknown, used, locked, expired,
///    replayed nonce) or one attempt taken, so parallel guesses can never
///    get more tries than the limit;
/// 3. `Enrollment.accepts(pin:)`: one scrypt, outside any transaction;
/// 4. the store binds the key and marks the enrollment used.
public enum PairingAuthority {
    public enum Decision: Equatable, Sendable {
        /// Bind this key; the enrollment is now used. `highestSequence` is
        /// what the store already holds for the serial.
        case accepted(publicKey: [UInt8], request: PairRequest, highestSequence: UInt64)
        case wrongPIN(attemptsLeft: Int)
        case expired
        case locked
        case alreadyUsed
        case unknownSerial
        case revoked
        /// Too old, or from the future, by its own time, or a replay.
        case stale
        case malformed(String)
    }

    public enum Reservation: Equatable, Sendable {
        /// One attempt taken; the enrollment as it must be saved.
        case granted(Enrollment)
        case refused(Decision)
    }

    /// Decrypts and checks a sealed PairRequest that came on `topic`.
    public static func open(bytes: [UInt8], topic: String, key: Curve25519.KeyAgreement.PrivateKey) -> Result<PairRequest, PairingRefusal> {
        let sealed: SealedPairRequest
        do { sealed = try SealedPairRequest(decoding: bytes) } catch { return .failure(PairingRefusal(serial: nil, reason: error.description)) }
        guard Topics.serial(in: topic, kind: "pair/req") == sealed.serial else {
            return .failure(PairingRefusal(serial: nil, reason: "the request for \(sealed.serial) came on \(topic)"))
        }
        guard let plaintext = PairingSeal.open(sealed, with: key) else {
            return .failure(PairingRefusal(serial: sealed.serial, reason: "the request was not sealed to this aggregator's pairing key, or was changed on the way"))
        }
        let envelope: COSESign1
        let request: PairRequest
        do {
            envelope = try COSESign1(decoding: plaintext)
            request = try PairRequest(decodingBody: envelope.payload)
        } catch {
            return .failure(PairingRefusal(serial: sealed.serial, reason: error.description))
        }
        guard request.serial == sealed.serial else {
            return .failure(PairingRefusal(serial: sealed.serial, reason: "the sealed request names \(request.serial)"))
        }
        // Proof of possession: the new key signed the request.
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey),
              envelope.keyID == KeyID.of(publicKey), envelope.isValid(for: publicKey) else {
            return .failure(PairingRefusal(serial: sealed.serial, reason: "the request is not signed by the key it carries"))
        }
        return .success(request)
    }

    /// Whether a request made at `time` (the device's clock) is inside the
    /// window of `maximumAge` either side of `now`. Checked arithmetic: any
    /// 64-bit time is judged, none traps.
    public static func isFresh(time: UInt64, now: UInt64, maximumAge: UInt64) -> Bool {
        time >= now ? time - now <= maximumAge : now - time <= maximumAge
    }

    /// Step 2, on the enrollment as stored (nil: none) and the device's
    /// standing.
    public static func reserve(_ enrollment: Enrollment?, revoked: Bool, nonce: [UInt8], now: UInt64) -> Reservation {
        if revoked { return .refused(.revoked) }
        guard var enrollment else { return .refused(.unknownSerial) }
        if enrollment.used { return .refused(.alreadyUsed) }
        if enrollment.attemptsLeft <= 0 { return .refused(.locked) }
        if now > enrollment.expiresAt { return .refused(.expired) }
        if enrollment.seenNonces.contains(nonce) { return .refused(.stale) }
        enrollment.seenNonces.append(nonce)
        if enrollment.seenNonces.count > Enrollment.rememberedNonces { enrollment.seenNonces.removeFirst() }
        enrollment.attemptsLeft -= 1
        return .granted(enrollment)
    }

    /// Step 4, once the PIN was right: on the enrollment as stored now (nil:
    /// none) and the device's standing, nil when the key may be bound, else
    /// the decision that refuses it. Both stores decide by this inside their
    /// binding transaction, so their behaviour cannot drift (a repeated
    /// sensor name, which a device's own configuration refuses, is refused
    /// here too, not kept first by one store and last by the other).
    public static func bindingRefusal(_ enrollment: Enrollment?, revoked: Bool, request: PairRequest) -> Decision? {
        if revoked { return .revoked }
        guard let enrollment else { return .unknownSerial }
        if enrollment.used { return .alreadyUsed }
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey)) != nil else {
            return .malformed("the public key is not an Ed25519 key")
        }
        var names = Set<String>()
        for sensor in request.sensors where !names.insert(sensor.name).inserted {
            return .malformed("the sensor name \"\(sensor.name)\" is repeated")
        }
        return nil
    }

    /// The decision for a wrong PIN, given the attempts left after it.
    public static func wrongPIN(attemptsLeft: Int) -> Decision {
        attemptsLeft <= 0 ? .locked : .wrongPIN(attemptsLeft: attemptsLeft)
    }

    /// The signed answer to `request`. Nothing in it depends on the PIN.
    public static func response(to request: PairRequest, decision: Decision, aggregatorKey: Curve25519.Signing.PrivateKey,
                                now: UInt64) throws -> [UInt8] {
        let result: PairResponse.Result
        var attemptsLeft: UInt64 = 0
        var bound: [UInt8] = []
        var highest: UInt64 = 0
        switch decision {
        case let .accepted(publicKey, _, highestSequence):
            result = .accepted
            bound = KeyID.of(rawPublicKey: publicKey)
            highest = min(highestSequence, TelemetryBounds.maximumInteger)
        case let .wrongPIN(left):
            result = .wrongPIN
            attemptsLeft = UInt64(max(0, left))
        case .expired, .alreadyUsed: result = .expired
        case .locked: result = .locked
        case .unknownSerial: result = .unknownSerial
        case .revoked: result = .revoked
        case .stale, .malformed: result = .stale
        }
        let response = PairResponse(serial: request.serial, result: result, attemptsLeft: attemptsLeft, boundKeyID: bound,
                                    requestNonce: request.nonce, time: now, highestSequence: highest)
        return try COSESign1.sign(payload: response.encodeBody(), with: aggregatorKey, keyID: KeyID.of(aggregatorKey.publicKey))
    }

    /// A signed Ack.
    public static func ack(serial: String, upTo sequence: UInt64, aggregatorKey: Curve25519.Signing.PrivateKey, now: UInt64) throws -> [UInt8] {
        try COSESign1.sign(payload: Ack(serial: serial, highestContiguous: sequence, time: now).encode(), with: aggregatorKey,
                           keyID: KeyID.of(aggregatorKey.publicKey))
    }
}

/// A pairing request that could not be opened or checked; never answered
/// (the sender may not be the device), logged and counted.
public struct PairingRefusal: Error, Equatable, Sendable {
    public var serial: String?
    public var reason: String
}
