import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MQTT
import Testing
import TestSupport
import TransparencyLog
import Wire

/// The aggregator's log receipts (issue 16 item 4), built from each store
/// and published through a real broker, verify on the device side
/// (`LogReceipt.check`) from one checkpoint to the next.
@Suite(.serialized) struct LogReceiptPublisherTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let aggregator = TestAggregator.identity
    let device = Curve25519.Signing.PrivateKey()

    func message(_ sequence: UInt64, logSize: UInt64?) throws -> StoredMessage {
        let telemetry = Telemetry(serial: "dev-r", sequence: sequence, floor: 0, timestamp: UInt64(t0) + sequence, clockSynchronised: true,
                                  bootID: [UInt8](repeating: 4, count: 16), millisecondsSinceBoot: sequence,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 290, unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)], logSize: logSize)
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: t0 + 1)
    }

    @Test(arguments: StoreKind.allCases)
    func receiptsFollowTheCheckpointsAndVerifyOnTheDevice(kind: StoreKind) async throws {
        let opened = try await kind.open(calendar: calendar, prefix: "receipts")
        let store = opened.store
        defer { opened.stop() }
        let broker = try MosquittoBroker()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator"))
        try await client.connect()
        defer { client.close() }
        let signer = try NoteSigner(name: "aggregator.example/fieldproof", key: aggregator.signingKey)
        let log = LogPublisher(store: store, signer: signer)
        let receipts = LogReceiptPublisher(store: store, client: client, key: aggregator.signingKey, verifier: signer.verifier,
                                           logger: Logger(label: "test"))

        try await store.bindKey(serial: "dev-r", publicKey: device.publicKey, at: t0, logKey: aggregator.signingKey)
        var sent: [UInt64: [UInt8]] = [:]
        func commit(_ sequences: ClosedRange<UInt64>, logSize: UInt64?) async throws {
            for sequence in sequences {
                let stored = try message(sequence, logSize: logSize)
                _ = try await store.commit(stored)
                sent[sequence] = stored.raw
            }
        }
        func check(view: DeviceLogView) async throws -> LogReceiptVerdict {
            let signed = try #require(try await broker.retainedMessage(topic: Topics.logReceipt("dev-r")))
            return LogReceipt.check(signed, serial: "dev-r", deviceKey: Array(device.publicKey.rawRepresentation),
                                    aggregatorKey: aggregator.signingKey.publicKey, view: view) { sent[$0] }
        }

        try await commit(1...3, logSize: nil)
        #expect(await receipts.publish(checkpoint: try await log.checkpoint()) == 0, "nothing acknowledged yet")
        await receipts.acknowledged(serial: "dev-r", upTo: 3)
        #expect(await receipts.publish(checkpoint: try await log.checkpoint()) == 1)
        guard case let .proven(first, sequence) = try await check(view: DeviceLogView()) else { Issue.record("first receipt"); return }
        #expect(sequence == 3 && first.size == 4, "the key event and three messages")

        // The device reports the size it holds; the next receipt links to it.
        try await commit(4...6, logSize: first.size)
        await receipts.acknowledged(serial: "dev-r", upTo: 6)
        let second = try await log.checkpoint()
        // Message 7 is acknowledged after the checkpoint was signed: the
        // receipt proves 6 and 7 waits for the next checkpoint.
        try await commit(7...7, logSize: first.size)
        await receipts.acknowledged(serial: "dev-r", upTo: 7)
        #expect(await receipts.publish(checkpoint: second) == 1)
        guard case let .proven(view, proven) = try await check(view: first) else { Issue.record("second receipt"); return }
        #expect(proven == 6 && view.size == 7 && view.provenSequence == 6)
        #expect(await receipts.publish(checkpoint: second) == 0, "the same proof is not sent twice")
        #expect(await receipts.publish(checkpoint: try await log.checkpoint()) == 1, "7 is pending until a checkpoint covers it")
        guard case .skipped = try await check(view: view) else {
            Issue.record("message 7 said the device holds 4 entries; a device at 7 cannot link it and must wait"); return
        }
        guard case let .proven(third, seven) = try await check(view: first) else { Issue.record("third receipt"); return }
        #expect(seven == 7 && third.size == 8)

        // A revoked device gets no receipt: no key speaks for it in the log.
        try await commit(8...8, logSize: third.size)
        #expect(try await store.revoke(serial: "dev-r", at: t0 + 10, logKey: aggregator.signingKey))
        await receipts.acknowledged(serial: "dev-r", upTo: 8)
        #expect(await receipts.publish(checkpoint: try await log.checkpoint()) == 0)
    }

    /// `GET /api/v1/log/proofs/<serial>/<sequence>`: a tlog-proof against
    /// the served checkpoint, that checks with the device's own bytes.
    @Test(arguments: StoreKind.allCases)
    func aMessagesLogProofIsServedAgainstTheServedCheckpoint(kind: StoreKind) async throws {
        let opened = try await kind.open(calendar: calendar, prefix: "log-proofs")
        let store = opened.store
        defer { opened.stop() }
        let signer = try NoteSigner(name: "aggregator.example/fieldproof", key: aggregator.signingKey)
        var raws: [[UInt8]] = []
        for sequence in UInt64(1)...5 {
            let stored = try message(sequence, logSize: nil)
            _ = try await store.commit(stored)
            raws.append(stored.raw)
        }
        let entries = raws
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: store,
                                          operations: StoreOperations(store: store, identity: aggregator, maximumAttempts: 5, pinLength: 8),
                                          operatorToken: "0123456789abcdef", metrics: AggregatorMetrics(), logger: logger,
                                          transparencyLog: LogPublisher(store: store, signer: signer))
        try await server.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/log/proofs/dev-r/4", method: .get) { response in
                #expect(response.status == .ok)
                let proof = try TlogProof(text: String(buffer: response.body))
                let verified = try proof.verify(leaf: .leaf(entries[3]), origin: signer.verifier.name, log: [signer.verifier])
                #expect(proof.index == 3 && verified.checkpoint.size == 5)
                #expect(throws: NoteError.self) { try proof.verify(leaf: .leaf(entries[2]), origin: signer.verifier.name, log: [signer.verifier]) }
            }
            try await client.execute(uri: "/api/v1/log/proofs/dev-r/6", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/log/proofs/dev%2Fr/1", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v1/log/proofs/dev-r/-1", method: .get) { #expect($0.status == .badRequest) }
        }
    }
}
