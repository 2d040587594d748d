import AggregatorStore
import Aggregator
import Crypto
import Foundation
import Testing
import TestSupport
import Wire

/// `fieldproof-aggregator devices show S` says how many of the device's
/// messages were dead-lettered (text and JSON).
@Suite struct DeadLetterCommandTests {
    @Test func devicesShowCountsDeadLetters() async throws {
        let directory = try TemporaryDirectory.make(prefix: "dead-letter-cli")
        let database = directory.appendingPathComponent("aggregator.sqlite").path
        let store = try SQLiteStore(path: database, calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x41, count: 32))
        func message(_ sequence: UInt64) throws -> StoredMessage {
            let telemetry = Telemetry(serial: "dev-1", sequence: sequence, floor: 0, timestamp: 1_795_557_601_000, clockSynchronised: true,
                                      bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: 1000,
                                      readings: [.init(sensor: "air", quantity: "temperature", value: 280, unit: "K")], statuses: [])
            let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
            return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)), receivedAt: 1_795_557_602_000)
        }
        _ = try await store.commit(try message(1))
        _ = try await store.deadLetter(try message(2), error: "refused", tries: 5, at: 1_795_557_603_000)
        _ = try await store.deadLetter(try message(3), error: "refused", tries: 5, at: 1_795_557_603_000)
        let config = directory.appendingPathComponent("aggregator.yaml").path
        try """
            state_directory: \(directory.path)
            store:
              kind: sqlite
              path: \(database)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let text = try await ProcessRunner.run(binary.path, ["devices", "show", "dev-1", "--config", config])
        #expect(text.status == 0 && text.output.contains("dead-lettered:      2"), "\(text.output)")
        #expect(text.output.contains("highest contiguous: 3"), "\(text.output)")
        let json = try await ProcessRunner.run(binary.path, ["devices", "show", "dev-1", "--json", "--config", config])
        let device = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(json.status == 0 && device?["deadLettered"] as? Int == 2, "\(json.output)")
    }
}
