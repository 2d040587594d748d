import Crypto
import Foundation
import Testing
@testable import Wire

/// docs/wire-format.md shows one hex example of each message. These are
/// rebuilt here from fixed keys (Ed25519 signatures are deterministic) and
/// must appear in the document verbatim, so the document cannot drift.
@Suite struct WireFormatDocTests {
    static let deviceKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x01, count: 32))
    static let aggregatorKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x02, count: 32))

    static func examples() throws -> [(String, [UInt8])] {
        let telemetry = Telemetry(serial: "fp-0001", sequence: 1044, floor: 1043, timestamp: 1_795_561_454_374, clockSynchronised: true,
                                  bootID: hex("b033245c87b342a3a204e4cbf65d0a14"), millisecondsSinceBoot: 7_654_321,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                                             .init(sensor: "air", quantity: "relative_humidity", value: 45.5, unit: "%")],
                                  statuses: [.init(sensor: "air", errorCode: nil), .init(sensor: "rain", errorCode: "no-ack")])
        let request = PairRequest(serial: "fp-0001", publicKey: Array(deviceKey.publicKey.rawRepresentation), board: "raspberry-pi-4-b",
                                  sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)],
                                  nonce: hex("000102030405060708090a0b0c0d0e0f"), time: 1_795_561_400_000, pin: "12345678")
        let response = PairResponse(serial: "fp-0001", result: .accepted, attemptsLeft: 0, boundKeyID: KeyID.of(deviceKey.publicKey),
                                    requestNonce: request.nonce, time: 1_795_561_401_000, highestSequence: 1043)
        let keys = AggregatorKeys(signingKey: Array(aggregatorKey.publicKey.rawRepresentation),
                                  pairingKey: hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let device = KeyID.of(deviceKey.publicKey)
        let aggregator = KeyID.of(aggregatorKey.publicKey)
        // The Certificate Transparency reference tree of eight leaves (MerkleTreeTests).
        let epochRoot = EpochRoot(id: "2026-11-24T17:00Z-1h", start: 1_795_539_600_000, end: 1_795_543_200_000, messageCount: 8,
                                  root: hex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"), time: 1_795_543_500_000)
        let keyEvent = KeyEvent(kind: .paired, serial: "fp-0001", publicKey: Array(deviceKey.publicKey.rawRepresentation), time: 1_795_561_401_000)
        let summary = EpochSummaryEntry(epoch: epochRoot, logSize: 1044, tallies: [
            .init(serial: "fp-0001", metric: "air/temperature", unit: "K", count: 360, minimum: 290.15, maximum: 296.4),
        ])
        return [
            ("KeyEvent", try keyEvent.signed(by: aggregatorKey)),
            ("EpochSummaryEntry", try summary.signed(by: aggregatorKey)),
            ("Telemetry", try COSESign1.sign(payload: telemetry.encode(), with: deviceKey, keyID: device)),
            // Inside the HPKE seal (the sealed form is random by design, so the document shows what is sealed).
            ("PairRequest", try COSESign1.sign(payload: request.encodeBody(), with: deviceKey, keyID: device)),
            ("PairResponse", try COSESign1.sign(payload: response.encodeBody(), with: aggregatorKey, keyID: aggregator)),
            ("AggregatorKeys", try COSESign1.sign(payload: keys.encode(), with: aggregatorKey, keyID: aggregator)),
            ("Ack", try COSESign1.sign(payload: Ack(serial: "fp-0001", highestContiguous: 1044, time: 1_795_561_455_000).encode(), with: aggregatorKey, keyID: aggregator)),
            ("EpochRoot", try COSESign1.sign(payload: epochRoot.encode(), with: aggregatorKey, keyID: aggregator)),
        ]
    }

    @Test func everyExampleInTheDocumentIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/wire-format.md").path
        let document = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let flattened = document.filter { !$0.isWhitespace }
        for (name, bytes) in try Self.examples() {
            let text = hexString(bytes)
            if !flattened.contains(text) {
                Issue.record("docs/wire-format.md lacks the current \(name) example:\n\(text)")
            }
        }
    }
}
