import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import Logging
import MQTT
import Testing
import TestSupport
import Wire

/// The verification pipeline with the real verifier and the SQLite store,
/// on a real broker: honest messages are tallied once and acknowledged,
/// each kind of bad message is rejected and counted by reason.
@Suite(.serialized) struct StorePipelineTests {
    let device = Curve25519.Signing.PrivateKey()
    let stranger = Curve25519.Signing.PrivateKey()
    let aggregatorKey = Curve25519.Signing.PrivateKey()
    let now: Int64 = 1_795_557_600_000

    func telemetry(_ serial: String, _ sequence: UInt64, key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let message = Telemetry(serial: serial, sequence: sequence, floor: 0, timestamp: UInt64(now) + sequence, clockSynchronised: true,
                                bootID: [UInt8](repeating: 1, count: 16), millisecondsSinceBoot: sequence * 1000,
                                readings: [.init(sensor: "air", quantity: "temperature", value: 290 + Double(sequence % 10), unit: "K")],
                                statuses: [.init(sensor: "air", errorCode: nil)])
        return try COSESign1.sign(payload: message.encode(), with: key, keyID: KeyID.of(key.publicKey))
    }

    @Test func honestMessagesAreTalliedOnceAndEveryRejectionIsCounted() async throws {
        let path = try TemporaryDirectory.make(prefix: "store-pipeline").appendingPathComponent("aggregator.sqlite").path
        let store = try SQLiteStore(path: path, calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(60)))
        try await store.bindKey(serial: "dev-1", publicKey: device.publicKey, at: now, logKey: TestAggregator.logKey)

        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let subscriber = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator"))
        try await subscriber.connect()
        try await subscriber.subscribe("fieldproof/v1/+/telemetry", qos: .atLeastOnce)
        let publisher = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "devices"))
        try await publisher.connect()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let pipeline = VerificationPipeline(verifier: TelemetryMessageVerifier(store: store), committer: store,
                                            acks: SignedAckPublisher(client: publisher, key: aggregatorKey), workers: 2,
                                            metrics: AggregatorMetrics(), logger: logger)
        let now = now
        let runner = Task { await pipeline.run(subscriber.messages.map { IncomingMessage(topic: $0.topic, payload: $0.payload, receivedAt: now) }, now: { now }) }

        for sequence in UInt64(1)...200 {
            try await publisher.publish(topic: "fieldproof/v1/dev-1/telemetry", payload: try telemetry("dev-1", sequence, key: device))
        }
        try await publisher.publish(topic: "fieldproof/v1/dev-1/telemetry", payload: try telemetry("dev-1", 5, key: device))      // replayed
        try await publisher.publish(topic: "fieldproof/v1/dev-1/telemetry", payload: try telemetry("dev-1", 201, key: stranger))  // forged
        try await publisher.publish(topic: "fieldproof/v1/dev-9/telemetry", payload: try telemetry("dev-9", 1, key: stranger))    // unknown
        try await publisher.publish(topic: "fieldproof/v1/dev-2/telemetry", payload: try telemetry("dev-1", 202, key: device))    // wrong topic
        try await publisher.publish(topic: "fieldproof/v1/dev-1/telemetry", payload: [0xD2, 0x84, 0x40])                          // malformed

        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let rejected = try await store.rejections(serial: "dev-1").values.reduce(0, +)
            if try await store.device(serial: "dev-1")?.accepted == 200 && rejected >= 4 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        // A last message from an unknown device marks the end: once its
        // rejection is counted, everything published before it (a duplicate
        // still on its way) has reached the pipeline.
        try await publisher.publish(topic: "fieldproof/v1/dev-marker/telemetry", payload: try telemetry("dev-marker", 1, key: stranger))
        while Date() < deadline, try await store.rejections(serial: "dev-marker")["unknown_device"] != 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        subscriber.close()
        await runner.value

        let summary = try #require(try await store.device(serial: "dev-1"))
        #expect(summary.accepted == 200)
        #expect(summary.highestContiguous == 200)
        #expect(try await store.tallies(serial: "dev-1").first?.count == 200)
        let rejected = try await store.rejections(serial: "dev-1")
        #expect(summary.redelivered == 1, "the message sent twice is a redelivery")
        #expect(rejected["duplicate_sequence"] == nil, "a redelivery is not a rejection: \(rejected)")
        #expect(rejected["bad_signature"] == 1, "\(rejected)")
        #expect(rejected["malformed"] == 1, "\(rejected)")
        #expect(try await store.rejections(serial: "dev-9")["unknown_device"] == 1)
        #expect(rejected["topic_serial_mismatch"] == 1, "a message signed by dev-1 that came on dev-2's topic: \(rejected)")

        // The retained Ack: signed by the aggregator, covering everything.
        let reader = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device-reader"))
        try await reader.connect()
        try await reader.subscribe("fieldproof/v1/dev-1/ack", qos: .atLeastOnce)
        var acknowledged: UInt64?
        for await message in reader.messages {
            acknowledged = DevicePairing.checkAck(message.payload, serial: "dev-1", aggregatorKey: aggregatorKey.publicKey)
            break
        }
        reader.close()
        publisher.close()
        #expect(acknowledged == 200)

        // Re-pairing with a new key: messages signed by the old one are now revoked.
        let newKey = Curve25519.Signing.PrivateKey()
        try await store.bindKey(serial: "dev-1", publicKey: newKey.publicKey, at: now + 1, logKey: TestAggregator.logKey)
        let verdict = TelemetryVerifier.verify(bytes: try telemetry("dev-1", 300, key: device), topic: "fieldproof/v1/dev-1/telemetry",
                                               registry: store, now: UInt64(now))
        #expect(verdict.reason == .revokedKey)
        let fresh = TelemetryVerifier.verify(bytes: try telemetry("dev-1", 300, key: newKey), topic: "fieldproof/v1/dev-1/telemetry",
                                             registry: store, now: UInt64(now))
        #expect(fresh.reason == nil)
    }
}
