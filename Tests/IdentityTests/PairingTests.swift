import Crypto
import Foundation
@testable import Identity
import Testing
import Wire

@Suite struct PairingTests {
    let secret = DeviceSecret(bytes: [UInt8](repeating: 0x5A, count: 32))
    let aggregatorKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x77, count: 32))
    let now: UInt64 = 1_795_561_454_374
    let topic = "fieldproof/v1/fp-0001/pair/req"

    func enrollment(attempts: Int = 5, expiresIn: UInt64 = 3_600_000) throws -> (Enrollment, PIN) {
        try Enrollment.create(serial: "fp-0001", expiresAt: now + expiresIn, maximumAttempts: attempts, kdf: fastKDF)
    }

    func request(pin: PIN, time: UInt64? = nil) throws -> DevicePairing.Request {
        try DevicePairing.makeRequest(serial: "fp-0001", pin: pin, secret: secret, board: "raspberry-pi-4-b",
                                      sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)], time: time ?? now, kdf: fastKDF)
    }

    @Test func theRightPINPairsOnceAndTheDeviceTrustsTheAnswer() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let (decision, updated) = PairingAuthority.verify(bytes: pairing.message, topic: topic, enrollment: enrollment, now: now)
        guard case let .accepted(publicKey, request) = decision else { Issue.record("expected acceptance, got \(decision)"); return }
        #expect(publicKey == Array(pairing.identityKey.publicKey.rawRepresentation))
        #expect(updated?.used == true)
        let answer = try PairingAuthority.response(to: request, decision: decision, verifier: enrollment.verifier, aggregatorKey: aggregatorKey, now: now)
        let response = try DevicePairing.checkResponse(answer, to: pairing)
        #expect(response.result == .accepted)
        #expect(response.boundKeyID == KeyID.of(pairing.identityKey.publicKey))
        #expect(response.aggregatorPublicKey == Array(aggregatorKey.publicKey.rawRepresentation))
        // One-time: the same PIN again is refused.
        let (again, _) = PairingAuthority.verify(bytes: try self.request(pin: pin).message, topic: topic, enrollment: updated, now: now)
        #expect(again == .alreadyUsed)
    }

    @Test func wrongPINsCountDownThenLock() throws {
        let (start, pin) = try enrollment(attempts: 3)
        var enrollment: Enrollment? = start
        let wrong = try PIN(validating: pin.digits == "11111111" ? "22222222" : "11111111")
        var decisions: [PairingAuthority.Decision] = []
        for _ in 0..<4 {
            let (decision, updated) = PairingAuthority.verify(bytes: try request(pin: wrong).message, topic: topic, enrollment: enrollment, now: now)
            decisions.append(decision)
            enrollment = updated
        }
        #expect(decisions == [.wrongPIN(attemptsLeft: 2), .wrongPIN(attemptsLeft: 1), .locked, .locked])
        // Locked means locked, even for the right PIN.
        #expect(PairingAuthority.verify(bytes: try request(pin: pin).message, topic: topic, enrollment: enrollment, now: now).0 == .locked)
    }

    @Test func expiredUnknownStaleAndForeignTopic() throws {
        let (enrollment, pin) = try enrollment(expiresIn: 1000)
        let message = try request(pin: pin).message
        #expect(PairingAuthority.verify(bytes: message, topic: topic, enrollment: enrollment, now: now + 2000).0 == .expired)
        #expect(PairingAuthority.verify(bytes: message, topic: topic, enrollment: nil, now: now).0 == .unknownSerial)
        let old = try request(pin: pin, time: now - 3_600_000).message
        #expect(PairingAuthority.verify(bytes: old, topic: topic, enrollment: enrollment, now: now).0 == .stale)
        guard case .malformed = PairingAuthority.verify(bytes: message, topic: "fieldproof/v1/fp-0002/pair/req", enrollment: enrollment, now: now).0 else {
            Issue.record("a request on another serial's topic must be refused")
            return
        }
    }

    @Test func aReplayedRequestCostsNoAttempt() throws {
        let (enrollment, pin) = try enrollment()
        let wrong = try request(pin: try PIN(validating: pin.digits == "11111111" ? "22222222" : "11111111")).message
        let (first, afterFirst) = PairingAuthority.verify(bytes: wrong, topic: topic, enrollment: enrollment, now: now)
        #expect(first == .wrongPIN(attemptsLeft: 4))
        let (replay, afterReplay) = PairingAuthority.verify(bytes: wrong, topic: topic, enrollment: afterFirst, now: now)
        #expect(replay == .stale)
        #expect(afterReplay?.attemptsLeft == 4)
    }

    @Test func aRequestNotSignedByItsKeyIsRefused() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let envelope = try COSESign1(decoding: pairing.message)
        let impostor = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x99, count: 32))
        let resigned = try COSESign1.sign(payload: envelope.payload, with: impostor, keyID: KeyID.of(impostor.publicKey))
        guard case .malformed = PairingAuthority.verify(bytes: resigned, topic: topic, enrollment: enrollment, now: now).0 else {
            Issue.record("proof of possession must be required")
            return
        }
    }

    @Test func aForgedAnswerIsNotTrusted() throws {
        let (enrollment, pin) = try enrollment()
        let pairing = try request(pin: pin)
        let (decision, _) = PairingAuthority.verify(bytes: pairing.message, topic: topic, enrollment: enrollment, now: now)
        guard case let .accepted(_, request) = decision else { Issue.record("setup"); return }
        // A broker (or anyone) without the enrollment answers "accepted".
        let forged = try PairingAuthority.response(to: request, decision: decision, verifier: [UInt8](repeating: 1, count: 32),
                                                   aggregatorKey: try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 3, count: 32)), now: now)
        #expect(throws: WireError.self) { try DevicePairing.checkResponse(forged, to: pairing) }
    }

    @Test func acksVerifyOnlyWithThePinnedKey() throws {
        let ack = try PairingAuthority.ack(serial: "fp-0001", upTo: 99, aggregatorKey: aggregatorKey, now: now)
        #expect(DevicePairing.checkAck(ack, serial: "fp-0001", aggregatorKey: aggregatorKey.publicKey) == 99)
        #expect(DevicePairing.checkAck(ack, serial: "fp-0002", aggregatorKey: aggregatorKey.publicKey) == nil)
        let other = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x12, count: 32))
        #expect(DevicePairing.checkAck(ack, serial: "fp-0001", aggregatorKey: other.publicKey) == nil)
        var tampered = ack
        tampered[tampered.count - 70] ^= 1
        #expect(DevicePairing.checkAck(tampered, serial: "fp-0001", aggregatorKey: aggregatorKey.publicKey) == nil)
    }
}
