import Crypto
import Foundation
@testable import Identity
import Testing
import Wire

/// Pairing v2 as pure steps: the device trusts the aggregator's keys by
/// their fingerprint, seals its request (PIN inside) to the pairing key,
/// and accepts only answers signed by the key it trusts; the aggregator
/// opens, reserves an attempt, checks the PIN with scrypt, answers.
@Suite struct PairingTests {
    let secret = DeviceSecret(bytes: [UInt8](repeating: 0x5A, count: 32))
    let aggregator = try! AggregatorIdentity(seed: [UInt8](repeating: 0x77, count: 32))
    let now: UInt64 = 1_795_561_454_374
    let topic = "fieldproof/v1/fp-0001/pair/req"

    func enrollment(attempts: Int = 5, expiresIn: UInt64 = 3_600_000) throws -> (Enrollment, PIN) {
        try Enrollment.create(serial: "fp-0001", expiresAt: now + expiresIn, maximumAttempts: attempts, kdf: fastKDF)
    }

    func request(pin: PIN, time: UInt64? = nil, to keys: AggregatorKeys? = nil) throws -> DevicePairing.Request {
        try DevicePairing.makeRequest(serial: "fp-0001", pin: pin, secret: secret, board: "raspberry-pi-4-b",
                                      sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)], time: time ?? now,
                                      aggregator: keys ?? aggregator.publicKeys, kdf: fastKDF)
    }

    func wrongPIN(_ pin: PIN) throws -> PIN { try PIN(validating: pin.digits == "11111111" ? "22222222" : "11111111") }

    /// The aggregator's steps without a store: open, reserve, scrypt.
    func judge(_ bytes: [UInt8], _ enrollment: Enrollment?, revoked: Bool = false, at time: UInt64? = nil) -> (PairingAuthority.Decision, Enrollment?) {
        let now = time ?? self.now
        guard case let .success(request) = PairingAuthority.open(bytes: bytes, topic: topic, key: aggregator.pairingKey) else {
            return (.malformed("unopened"), enrollment)
        }
        guard PairingAuthority.isFresh(time: request.time, now: now, maximumAge: 600_000) else { return (.stale, enrollment) }
        switch PairingAuthority.reserve(enrollment, revoked: revoked, nonce: request.nonce, now: now) {
        case let .refused(decision): return (decision, enrollment)
        case let .granted(reserved):
            guard let pin = try? PIN(validating: request.pin), reserved.accepts(pin: pin) else {
                return (PairingAuthority.wrongPIN(attemptsLeft: reserved.attemptsLeft), reserved)
            }
            var used = reserved
            used.used = true
            return (.accepted(publicKey: request.publicKey, request: request, highestSequence: 0), used)
        }
    }

    @Test func theDeviceTrustsTheAggregatorsKeysOnlyByTheirFingerprint() throws {
        let announcement = try aggregator.signedAnnouncement()
        #expect(try DevicePairing.trustedKeys(announcement: announcement, fingerprint: aggregator.fingerprint) == aggregator.publicKeys)
        // Typed with capitals and without dashes: the same fingerprint.
        let typed = aggregator.fingerprint.uppercased().filter { $0 != "-" }
        #expect(try DevicePairing.trustedKeys(announcement: announcement, fingerprint: typed) == aggregator.publicKeys)
        // A broker announcing keys of its own (properly self-signed) is refused.
        let impostor = try AggregatorIdentity(seed: [UInt8](repeating: 0x78, count: 32))
        #expect(throws: DevicePairing.TrustError.self) {
            try DevicePairing.trustedKeys(announcement: try impostor.signedAnnouncement(), fingerprint: aggregator.fingerprint)
        }
        // The real signing key with the broker's pairing key (so the PIN would be sealed to the broker), signed by the broker.
        let mixed = AggregatorKeys(signingKey: aggregator.publicKeys.signingKey, pairingKey: impostor.publicKeys.pairingKey)
        let resigned = try COSESign1.sign(payload: mixed.encode(), with: impostor.signingKey, keyID: KeyID.of(impostor.signingKey.publicKey))
        #expect(throws: DevicePairing.TrustError.self) { try DevicePairing.trustedKeys(announcement: resigned, fingerprint: aggregator.fingerprint) }
        #expect(KeyFingerprint.of(mixed) != aggregator.fingerprint)
        #expect(KeyFingerprint.normalised("12") == nil && KeyFingerprint.normalised(String(repeating: "g", count: 32)) == nil)
    }

    @Test func theRightPINPairsOnceAndTheDeviceTrustsTheAnswer() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let (decision, updated) = judge(pairing.message, enrollment)
        guard case let .accepted(publicKey, request, _) = decision else { Issue.record("expected acceptance, got \(decision)"); return }
        #expect(publicKey == Array(pairing.identityKey.publicKey.rawRepresentation))
        #expect(updated?.used == true)
        let answer = try PairingAuthority.response(to: request, decision: .accepted(publicKey: publicKey, request: request, highestSequence: 41),
                                                   aggregatorKey: aggregator.signingKey, now: now)
        let response = try DevicePairing.checkResponse(answer, to: pairing)
        #expect(response.result == .accepted && response.highestSequence == 41)
        #expect(response.boundKeyID == KeyID.of(pairing.identityKey.publicKey))
        // One-time: the same PIN again is refused.
        #expect(judge(try self.request(pin: pin).message, updated).0 == .alreadyUsed)
    }

    /// What a recording of the exchange gives an eavesdropper (or the
    /// broker): no PIN, and nothing a PIN guess can be checked against.
    @Test func aRecordedRequestRevealsNothingToCheckAPINAgainst() throws {
        let (_, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let sealed = try SealedPairRequest(decoding: pairing.message)
        // The PIN's digits appear nowhere in what travels, nor does the signed body.
        #expect(pairing.message.firstRange(of: Array(pin.digits.utf8)) == nil)
        #expect(pairing.message.firstRange(of: Array(pairing.identityKey.publicKey.rawRepresentation)) == nil)
        // Only the aggregator's pairing key opens it: another key (the broker's), even
        // with the right PIN in hand, gets nothing to compare a guess with.
        let broker = try AggregatorIdentity(seed: [UInt8](repeating: 0x79, count: 32))
        #expect(PairingSeal.open(sealed, with: broker.pairingKey) == nil)
        #expect(PairingSeal.open(sealed, with: aggregator.pairingKey) != nil)
        // Two requests with the same PIN and key share no bytes beyond the header (fresh HPKE keys, fresh nonce).
        let second = try SealedPairRequest(decoding: try request(pin: pin).message)
        #expect(second.encapsulatedKey != sealed.encapsulatedKey && second.ciphertext != sealed.ciphertext)
        // The clear serial is bound: moved to another serial, or a bit flipped, it no longer opens.
        var moved = sealed
        moved.serial = "fp-0002"
        #expect(PairingSeal.open(moved, with: aggregator.pairingKey) == nil)
        var flipped = sealed
        flipped.ciphertext[flipped.ciphertext.count / 2] ^= 1
        #expect(PairingSeal.open(flipped, with: aggregator.pairingKey) == nil)
        // The answer carries nothing derived from the PIN: for a wrong and a right PIN it has the same fields but the result.
        let body = try PairResponse(decodingBody: try COSESign1(decoding: try PairingAuthority.response(
            to: pairing.request, decision: .wrongPIN(attemptsLeft: 2), aggregatorKey: aggregator.signingKey, now: now)).payload)
        #expect(body.boundKeyID.isEmpty && body.requestNonce == pairing.request.nonce)
    }

    @Test func whatTheAggregatorStoresIsASaltedScryptNotAKey() throws {
        let (first, pin) = try enrollment()
        #expect(first.salt.count == 16 && first.verifier.count == 32)
        #expect(first.verifier == (try KeyDerivation.pinVerifier(pin: pin, salt: first.salt, kdf: fastKDF)))
        // Random per enrollment: the same PIN under another salt gives another verifier, so no table built in advance helps.
        var second = first
        second.salt = [UInt8](repeating: 0, count: 16)
        second.verifier = try KeyDerivation.pinVerifier(pin: pin, salt: second.salt, kdf: fastKDF)
        #expect(second.verifier != first.verifier)
        let wrong = try wrongPIN(pin)
        #expect(first.accepts(pin: pin) && !first.accepts(pin: wrong))
        // A damaged record accepts nothing.
        var damaged = first
        damaged.salt = []
        #expect(!damaged.accepts(pin: pin))
    }

    @Test func wrongPINsCountDownThenLock() throws {
        let (start, pin) = try enrollment(attempts: 3)
        var enrollment: Enrollment? = start
        var decisions: [PairingAuthority.Decision] = []
        for _ in 0..<4 {
            let (decision, updated) = judge(try request(pin: try wrongPIN(pin)).message, enrollment)
            decisions.append(decision)
            enrollment = updated
        }
        #expect(decisions == [.wrongPIN(attemptsLeft: 2), .wrongPIN(attemptsLeft: 1), .locked, .locked])
        // Locked means locked, even for the right PIN.
        #expect(judge(try request(pin: pin).message, enrollment).0 == .locked)
    }

    @Test func expiredUnknownRevokedStaleAndForeignTopic() throws {
        let (enrollment, pin) = try enrollment(expiresIn: 1000)
        let message = try request(pin: pin).message
        #expect(judge(message, enrollment, at: now + 2000).0 == .expired)
        #expect(judge(message, nil).0 == .unknownSerial)
        #expect(judge(message, enrollment, revoked: true).0 == .revoked)
        #expect(judge(try request(pin: pin, time: now - 3_600_000).message, enrollment).0 == .stale)
        #expect(judge(try request(pin: pin, time: .max).message, enrollment).0 == .stale)
        #expect(judge(try request(pin: pin, time: 0).message, enrollment).0 == .stale)
        guard case .failure = PairingAuthority.open(bytes: message, topic: "fieldproof/v1/fp-0002/pair/req", key: aggregator.pairingKey) else {
            Issue.record("a request on another serial's topic must be refused")
            return
        }
    }

    @Test func freshnessIsCheckedWithoutOverflow() {
        #expect(PairingAuthority.isFresh(time: .max, now: .max, maximumAge: 0))
        #expect(!PairingAuthority.isFresh(time: .max, now: 0, maximumAge: 600_000))
        #expect(!PairingAuthority.isFresh(time: 0, now: .max, maximumAge: 600_000))
        #expect(PairingAuthority.isFresh(time: 0, now: .max, maximumAge: .max))
        #expect(PairingAuthority.isFresh(time: now + 600_000, now: now, maximumAge: 600_000))
        #expect(!PairingAuthority.isFresh(time: now + 600_001, now: now, maximumAge: 600_000))
    }

    @Test func aReplayedRequestCostsNoAttempt() throws {
        let (enrollment, pin) = try enrollment()
        let wrong = try request(pin: try wrongPIN(pin)).message
        let (first, afterFirst) = judge(wrong, enrollment)
        #expect(first == .wrongPIN(attemptsLeft: 4))
        let (replay, afterReplay) = judge(wrong, afterFirst)
        #expect(replay == .stale)
        #expect(afterReplay?.attemptsLeft == 4)
    }

    @Test func aRequestNotSignedByItsKeyIsRefusedBeforeAnyAttempt() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let impostor = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x99, count: 32))
        let resigned = try COSESign1.sign(payload: pairing.request.encodeBody(), with: impostor, keyID: KeyID.of(impostor.publicKey))
        let sealed = try PairingSeal.seal(resigned, serial: "fp-0001", to: aggregator.pairingKey.publicKey)
        guard case .failure = PairingAuthority.open(bytes: sealed.encode(), topic: topic, key: aggregator.pairingKey) else {
            Issue.record("proof of possession must be required")
            return
        }
        #expect(enrollment.attemptsLeft == 5)
    }

    @Test func answersNotFromTheTrustedAggregatorOrNotForThisRequestAreRefused() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let (decision, _) = judge(pairing.message, enrollment)
        guard case let .accepted(key, request, _) = decision else { Issue.record("setup: \(decision)"); return }
        // A broker answers "accepted" with a key of its own.
        let broker = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 3, count: 32))
        let forged = try PairingAuthority.response(to: request, decision: decision, aggregatorKey: broker, now: now)
        #expect(throws: WireError.self) { try DevicePairing.checkResponse(forged, to: pairing) }
        // A genuine answer to another request (another nonce) is not ours.
        let other = try self.request(pin: pin)
        let theirs = try PairingAuthority.response(to: other.request, decision: decision, aggregatorKey: aggregator.signingKey, now: now)
        #expect(throws: WireError.self) { try DevicePairing.checkResponse(theirs, to: pairing) }
        // A genuine acceptance that binds another key.
        let elsewhere = PairingAuthority.Decision.accepted(publicKey: Array(broker.publicKey.rawRepresentation), request: request, highestSequence: 0)
        let rebound = try PairingAuthority.response(to: request, decision: elsewhere, aggregatorKey: aggregator.signingKey, now: now)
        #expect(throws: WireError.self) { try DevicePairing.checkResponse(rebound, to: pairing) }
        _ = key
    }

    @Test func acksVerifyOnlyWithThePinnedKey() throws {
        let key = aggregator.signingKey
        let ack = try PairingAuthority.ack(serial: "fp-0001", upTo: 99, aggregatorKey: key, now: now)
        #expect(DevicePairing.checkAck(ack, serial: "fp-0001", aggregatorKey: key.publicKey) == 99)
        #expect(DevicePairing.checkAck(ack, serial: "fp-0002", aggregatorKey: key.publicKey) == nil)
        let other = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x12, count: 32))
        #expect(DevicePairing.checkAck(ack, serial: "fp-0001", aggregatorKey: other.publicKey) == nil)
        var tampered = ack
        tampered[tampered.count - 70] ^= 1
        #expect(DevicePairing.checkAck(tampered, serial: "fp-0001", aggregatorKey: key.publicKey) == nil)
    }
}
