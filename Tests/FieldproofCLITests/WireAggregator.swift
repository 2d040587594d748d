import Crypto
import Foundation
import MQTT
import TestSupport
import Wire

/// Plays the aggregator for daemon tests, built from the Wire module:
/// verifies each Telemetry against the device's key, keeps the first copy
/// of every sequence, and publishes a signed Ack (retained) for the highest
/// contiguous sequence, moving past gaps the device declared settled.
final class WireAggregator: @unchecked Sendable {
    let key = Curve25519.Signing.PrivateKey()
    let serial: String
    let deviceKey: Curve25519.Signing.PublicKey
    private let client: MQTTClient
    private let lock = NSLock()
    private var messages: [UInt64: [UInt8]] = [:]
    private var readings: [UInt64: Int] = [:]
    private var reused: [UInt64] = []
    private var rejected = 0
    private var highest: UInt64 = 0
    private var task: Task<Void, Never>?

    init(broker: MosquittoBroker, serial: String, deviceKey: Curve25519.Signing.PublicKey) async throws {
        self.serial = serial
        self.deviceKey = deviceKey
        var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator-\(UUID().uuidString.prefix(6))")
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        client = try MQTTClient(configuration: config)
        try await client.connect()
        try await client.subscribe(Topics.telemetry(serial), qos: .atLeastOnce)
        task = Task { [weak self, client] in
            for await message in client.messages {
                guard let self, let ack = self.receive(message.payload) else { continue }
                let payload = Ack(serial: serial, highestContiguous: ack, time: 0).encode()
                if let signed = try? COSESign1.sign(payload: payload, with: self.key, keyID: KeyID.of(self.key.publicKey)) {
                    // QoS 0: the loop must not wait for a PUBACK (one lost in a reconnect under a loaded
                    // machine stopped it for good, and with it every later Ack); the next Ack supersedes a lost one.
                    try? await client.publish(topic: "fieldproof/v1/\(serial)/ack", payload: signed, qos: .atMostOnce, retain: true)
                }
            }
        }
    }

    private func receive(_ bytes: [UInt8]) -> UInt64? {
        guard let envelope = try? COSESign1(decoding: bytes), envelope.isValid(for: deviceKey),
              let telemetry = try? Telemetry(decoding: envelope.payload), telemetry.serial == serial else {
            lock.withLock { rejected += 1 }
            return nil
        }
        return lock.withLock {
            if let earlier = messages[telemetry.sequence] {
                if earlier != bytes { reused.append(telemetry.sequence) }
            } else {
                messages[telemetry.sequence] = bytes
                readings[telemetry.sequence] = telemetry.readings.count
            }
            highest = max(highest, telemetry.floor)
            while messages[highest + 1] != nil { highest += 1 }
            return highest
        }
    }

    var sequences: Set<UInt64> { lock.withLock { Set(messages.keys) } }
    /// Every accepted message as it was signed, by sequence.
    var signedMessages: [UInt64: [UInt8]] { lock.withLock { messages } }
    var readingCount: Int { lock.withLock { readings.values.reduce(0, +) } }
    var acknowledged: UInt64 { lock.withLock { highest } }
    /// Sequences that arrived twice with different contents: a reused number.
    var reusedSequences: [UInt64] { lock.withLock { reused } }
    var rejectedCount: Int { lock.withLock { rejected } }

    func close() {
        task?.cancel()
        client.close()
    }
}
