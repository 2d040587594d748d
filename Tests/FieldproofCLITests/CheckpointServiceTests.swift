import Aggregator
import AggregatorStore
import Clocks
import Crypto
@testable import fieldproof_aggregator
import Foundation
import Logging
import MQTT
import Testing
import TestSupport
import TransparencyLog
import Wire

/// The log's checkpoint, signed and retained on its topic, follows the log
/// once per interval of the (test) clock.
@Suite struct CheckpointServiceTests {
    @Test func aGrownLogIsCheckpointedOnTheNextIntervalAndRetained() async throws {
        let broker = try MosquittoBroker()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator"))
        try await client.connect()
        defer { client.close() }
        let directory = try TemporaryDirectory.make(prefix: "checkpoints").path
        let store = try SQLiteStore(path: directory + "/tallies.sqlite", calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let signer = try NoteSigner(name: "aggregator.example/fieldproof", key: Curve25519.Signing.PrivateKey())
        let clock = TestClock()
        let receipts = LogReceiptPublisher(store: store, client: client, key: Curve25519.Signing.PrivateKey(), verifier: signer.verifier,
                                           logger: Logger(label: "test"))
        let service = CheckpointService(log: LogPublisher(store: store, signer: signer), receipts: receipts, client: client, interval: .seconds(10),
                                        clock: clock, logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        func retainedCheckpoint() async throws -> Checkpoint? {
            guard let note = try await broker.retainedMessage(topic: Topics.logCheckpoint) else { return nil }
            return try Checkpoint(text: try SignedNote.open(note, verifiers: [signer.verifier]).text)
        }
        var first: Checkpoint?
        let deadline = ContinuousClock.now + .seconds(10)
        while first == nil, ContinuousClock.now < deadline { first = try await retainedCheckpoint() }
        #expect(first?.size == 0 && first?.root == .emptyTree, "the empty log at start")

        let device = Curve25519.Signing.PrivateKey()
        for sequence in UInt64(1)...3 {
            let telemetry = Telemetry(serial: "dev-1", sequence: sequence, floor: 0, timestamp: 1_795_557_600_000 + sequence, clockSynchronised: true,
                                      bootID: [UInt8](repeating: 2, count: 16), millisecondsSinceBoot: sequence, readings: [], statuses: [])
            let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
            _ = try await store.commit(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)),
                                                     receivedAt: 1_795_557_600_100))
        }
        #expect(try await retainedCheckpoint()?.size == 0, "not before the interval")
        await clock.advance(by: .seconds(10))
        var grown: Checkpoint?
        let until = ContinuousClock.now + .seconds(10)
        while grown?.size != 3, ContinuousClock.now < until { grown = try await retainedCheckpoint() }
        let head = try await store.logHead()
        #expect(grown == Checkpoint(origin: "aggregator.example/fieldproof", size: 3, root: head.root))

        // Tiles: there once their entries are, and a hostile index is no tile (not a trap).
        let publisher = LogPublisher(store: store, signer: signer)
        #expect(try await publisher.data(of: Tile(kind: .entries, index: 0, width: 3)!)?.count == 3 * 2 + (try await store.logEntries(from: 0, count: 3)).map(\.count).reduce(0, +))
        #expect(try await publisher.data(of: Tile(kind: .entries, index: 0, width: 4)!) == nil, "a fourth entry is not there")
        #expect(try await publisher.data(of: Tile(kind: .hashes(level: 0), index: 0, width: 3)!) == (try await store.logHashes(level: 0, from: 0, count: 3)).flatMap(\.bytes))
        #expect(try await publisher.data(of: Tile(kind: .hashes(level: 0), index: .max / 256)!) == nil)
        #expect(try await publisher.data(of: Tile(kind: .hashes(level: 0), index: 1 << 55)!) == nil, "entries from 2^63: past what the stores count")
        #expect(try await publisher.data(of: Tile(kind: .entries, index: 1 << 55)!) == nil)
    }
}
