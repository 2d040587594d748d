import Crypto
import Foundation
import Testing
@testable import Wire

/// Each bound of `TelemetryBounds`: just inside is accepted, just outside
/// is rejected with its own reason.
@Suite struct TelemetryBoundsTests {
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x22, count: 32))
    let now: UInt64 = 1_795_561_454_374
    let topic = "fieldproof/v1/fp-0001/telemetry"
    var registry: StaticRegistry { StaticRegistry(devices: ["fp-0001": DeviceKeys(current: key.publicKey)]) }

    func telemetry(sequence: UInt64 = 42, floor: UInt64? = nil, timestamp: UInt64? = nil, synchronised: Bool = true,
                   sinceBoot: UInt64 = 7_654_321, values: [Double] = [294.65]) -> Telemetry {
        Telemetry(serial: "fp-0001", sequence: sequence, floor: floor ?? sequence - 1, timestamp: timestamp ?? now, clockSynchronised: synchronised,
                  bootID: [UInt8](repeating: 4, count: 16), millisecondsSinceBoot: sinceBoot,
                  readings: values.map { .init(sensor: "s", quantity: "q", value: $0, unit: "1") }, statuses: [])
    }

    func verdict(_ telemetry: Telemetry, signer: Curve25519.Signing.PrivateKey? = nil) throws -> TelemetryVerdict {
        let signer = signer ?? key
        let bytes = try COSESign1.sign(payload: telemetry.encode(), with: signer, keyID: KeyID.of(signer.publicKey))
        return TelemetryVerifier.verify(bytes: bytes, topic: topic, registry: registry, now: now)
    }

    func expectAccepted(_ telemetry: Telemetry, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try verdict(telemetry)
        guard case .accepted = result else {
            Issue.record("must be accepted: \(result)", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func readingValues() throws {
        try expectAccepted(telemetry(values: [1e15, -1e15, 0, -0.0, Double.leastNonzeroMagnitude]))
        #expect(try verdict(telemetry(values: [1e15.nextUp])).reason == .valueOutOfRange)
        #expect(try verdict(telemetry(values: [(-1e15).nextDown])).reason == .valueOutOfRange)
        #expect(try verdict(telemetry(values: [1, 1e308])).reason == .valueOutOfRange)
        #expect(try verdict(telemetry(values: [Double.nan])).reason == .nonFiniteValue)
        #expect(try verdict(telemetry(values: [1, .infinity])).reason == .nonFiniteValue)
        #expect(try verdict(telemetry(values: [-.infinity])).reason == .nonFiniteValue)
    }

    @Test func sequence() throws {
        let top = TelemetryBounds.maximumInteger
        #expect(top == 9_007_199_254_740_991)
        try expectAccepted(telemetry(sequence: top, floor: top - 1))
        try expectAccepted(telemetry(sequence: 1, floor: 0))
        #expect(try verdict(telemetry(sequence: top + 1, floor: top)).reason == .sequenceOutOfRange)
        #expect(try verdict(telemetry(sequence: .max, floor: .max - 1)).reason == .sequenceOutOfRange)
        // floor < sequence stays a decoding rule (so sequence 0 never decodes).
        #expect(try verdict(telemetry(sequence: 5, floor: 5)).reason == .malformed)
    }

    @Test func timestamp() throws {
        let top = TelemetryBounds.maximumInteger
        // Unsynchronised: any time up to 2^53 − 1 (re-timed later).
        try expectAccepted(telemetry(timestamp: top, synchronised: false))
        try expectAccepted(telemetry(timestamp: 0, synchronised: false))
        #expect(try verdict(telemetry(timestamp: top + 1, synchronised: false)).reason == .timestampOutOfRange)
        #expect(try verdict(telemetry(timestamp: .max, synchronised: false)).reason == .timestampOutOfRange)
        // Synchronised: not before 2000-01-01T00:00:00Z.
        try expectAccepted(telemetry(timestamp: 946_684_800_000, sinceBoot: 0))
        #expect(try verdict(telemetry(timestamp: 946_684_799_999)).reason == .timestampOutOfRange)
        #expect(try verdict(telemetry(timestamp: top + 1)).reason == .timestampOutOfRange)
        // Inside the bounds but ahead of the aggregator's clock: as before.
        #expect(try verdict(telemetry(timestamp: top)).reason == .timestampInFuture)
    }

    @Test func millisecondsSinceBoot() throws {
        let top = TelemetryBounds.maximumMillisecondsSinceBoot
        #expect(top == 3_155_760_000_000)
        try expectAccepted(telemetry(synchronised: false, sinceBoot: top))
        try expectAccepted(telemetry(timestamp: top, synchronised: false, sinceBoot: top))
        #expect(try verdict(telemetry(synchronised: false, sinceBoot: top + 1)).reason == .msSinceBootOutOfRange)
        #expect(try verdict(telemetry(sinceBoot: .max)).reason == .msSinceBootOutOfRange)
    }

    /// Bounds come before the signature: an out-of-range message is turned
    /// away without a verify, whoever signed it, and counted against the
    /// topic's serial.
    @Test func boundsAreCheckedBeforeTheSignature() throws {
        let stranger = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x44, count: 32))
        #expect(try verdict(telemetry(values: [.nan]), signer: stranger).reason == .nonFiniteValue)
        #expect(try verdict(telemetry(values: [1]), signer: stranger).reason == .badSignature)
        let bytes = try COSESign1.sign(payload: telemetry(values: [.nan]).encode(), with: key, keyID: KeyID.of(key.publicKey))
        let result = TelemetryVerifier.verify(bytes: bytes, topic: "fieldproof/v1/fp-0002/telemetry", registry: registry, now: now)
        guard case let .rejected(reason, serial, _) = result else { Issue.record("must be rejected"); return }
        #expect(reason == .nonFiniteValue && serial == "fp-0002")
    }

    /// docs/wire-format.md's section on rejection reasons names each one.
    @Test func theWireFormatDocumentListsEveryReason() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/wire-format.md").path
        let document = try String(contentsOfFile: path, encoding: .utf8)
        let section = try #require(document.components(separatedBy: "## Rejection reasons").dropFirst().first)
        for reason in RejectionReason.allCases {
            #expect(section.contains("`\(reason.rawValue)`"), "docs/wire-format.md does not list \(reason.rawValue)")
        }
        #expect(section.contains("10^15") && section.contains("2^53 − 1") && section.contains("946 684 800 000")
                && section.contains("3 155 760 000 000"))
    }

    @Test func everyReasonHasItsWireName() {
        #expect(RejectionReason.allCases.map(\.rawValue) == [
            "malformed", "oversized", "unknown_device", "revoked_key", "bad_signature", "topic_serial_mismatch",
            "timestamp_in_future", "non_finite_value", "value_out_of_range", "sequence_out_of_range", "timestamp_out_of_range",
            "ms_since_boot_out_of_range", "sequence_conflict",
        ])
    }
}
