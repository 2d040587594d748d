import Crypto
import Testing
@testable import Wire

struct StaticRegistry: DeviceKeyRegistry {
    var devices: [String: DeviceKeys]
    func keys(for serial: String) -> DeviceKeys? { devices[serial] }
}

@Suite struct TelemetryVerifierTests {
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x22, count: 32))
    let oldKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x33, count: 32))
    let now: UInt64 = 1_795_561_454_374
    let topic = "fieldproof/v1/fp-0001/telemetry"

    var registry: StaticRegistry {
        StaticRegistry(devices: [
            "fp-0001": DeviceKeys(current: key.publicKey, retiredKeyIDs: [KeyID.of(oldKey.publicKey)]),
            "fp-0002": DeviceKeys(current: nil),
            "fp-0003": DeviceKeys(current: key.publicKey, revoked: true),
        ])
    }

    func signed(_ telemetry: Telemetry, with signer: Curve25519.Signing.PrivateKey? = nil) throws -> [UInt8] {
        let signer = signer ?? key
        return try COSESign1.sign(payload: telemetry.encode(), with: signer, keyID: KeyID.of(signer.publicKey))
    }

    func verdict(_ bytes: [UInt8], topic: String? = nil) -> TelemetryVerdict {
        TelemetryVerifier.verify(bytes: bytes, topic: topic ?? self.topic, registry: registry, now: now)
    }

    @Test func anHonestMessageIsAccepted() throws {
        let bytes = try signed(sampleTelemetry(timestamp: now))
        guard case let .accepted(verified) = verdict(bytes) else { Issue.record("must be accepted"); return }
        #expect(verified.telemetry == sampleTelemetry(timestamp: now))
        #expect(verified.hash == Array(SHA256.hash(data: bytes)))
    }

    @Test func eachReasonHasACase() throws {
        #expect(verdict([0xD2, 0x84, 0x40]).reason == .malformed)
        #expect(verdict([UInt8](repeating: 0, count: 17_000)).reason == .oversized)
        #expect(verdict(try signed(sampleTelemetry(serial: "fp-9999")), topic: "fieldproof/v1/fp-9999/telemetry").reason == .unknownDevice)
        #expect(verdict(try signed(sampleTelemetry(serial: "fp-0002")), topic: "fieldproof/v1/fp-0002/telemetry").reason == .unknownDevice)
        #expect(verdict(try signed(sampleTelemetry(), with: oldKey)).reason == .revokedKey)
        #expect(verdict(try signed(sampleTelemetry(serial: "fp-0003")), topic: "fieldproof/v1/fp-0003/telemetry").reason == .revokedKey)
        let stranger = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x44, count: 32))
        #expect(verdict(try signed(sampleTelemetry(), with: stranger)).reason == .badSignature)
        #expect(verdict(try signed(sampleTelemetry()), topic: "fieldproof/v1/fp-0002/telemetry").reason == .topicSerialMismatch)
        #expect(verdict(try signed(sampleTelemetry(timestamp: now + 600_000))).reason == .timestampInFuture)
        // An unsynchronised clock may be anywhere: re-timed later, not refused.
        guard case .accepted = verdict(try signed(sampleTelemetry(timestamp: now + 600_000, synchronised: false))) else {
            Issue.record("an unsynchronised timestamp must not be refused")
            return
        }
    }

    /// Flip every bit position of a signed message, one byte at a time:
    /// nothing but the original verifies.
    @Test func everyTamperedByteIsRejected() throws {
        let bytes = try signed(sampleTelemetry(timestamp: now))
        for position in bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var tampered = bytes
                tampered[position] ^= mask
                if case .accepted = verdict(tampered) {
                    Issue.record("a change at byte \(position) (mask \(mask)) was accepted")
                }
            }
        }
    }
}
