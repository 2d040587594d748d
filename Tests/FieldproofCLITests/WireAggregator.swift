import Crypto
import Foundation
import MQTT
import TestSupport
import Wire
import Synchronization

/// Plays the aggregator for daemon tests, built from the Wire module:
/// verifies each Telemetry against the device's key, keeps the first copy
/// of every sequence, and publishes a signed Ack (retained) for the highest
/// contiguous sequence, moving past gaps the device declared settled.
final class WireAggregator: Sendable {
    let key = Curve25519.Signing.PrivateKey()
    let serial: String
    let deviceKey: Curve25519.Signing.PublicKey
    private let client: MQTTClient
    private struct State {
        var messages: [UInt64: [UInt8]] = [:]
        var readings: [UInt64: Int] = [:]
        var reused: [UInt64] = []
        var rejected = 0
        var highest: UInt64 = 0
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(broker: MosquittoBroker, serial: String, deviceKey: Curve25519.Signing.PublicKey) async throws {
        self.serial = serial
        self.deviceKey = deviceKey
        var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator-\(UUID().uuidString.prefix(6))")
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        client = try MQTTClient(configuration: config)
        try await client.connect()
        try await client.subscribe(Topics.telemetry(serial), qos: .atLeastOnce)
        let listener = Task { [weak self, client] in
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
        task.withLock { $0 = listener }
    }

    private func receive(_ bytes: [UInt8]) -> UInt64? {
        guard let envelope = try? COSESign1(decoding: bytes), envelope.isValid(for: deviceKey),
              let telemetry = try? Telemetry(decoding: envelope.payload), telemetry.serial == serial else {
            state.withLock { $0.rejected += 1 }
            return nil
        }
        return state.withLock { state in
            if let earlier = state.messages[telemetry.sequence] {
                if earlier != bytes { state.reused.append(telemetry.sequence) }
            } else {
                state.messages[telemetry.sequence] = bytes
                state.readings[telemetry.sequence] = telemetry.readings.count
            }
            state.highest = max(state.highest, telemetry.floor)
            while state.messages[state.highest + 1] != nil { state.highest += 1 }
            return state.highest
        }
    }

    var sequences: Set<UInt64> { state.withLock { Set($0.messages.keys) } }
    /// Every accepted message as it was signed, by sequence.
    var signedMessages: [UInt64: [UInt8]] { state.withLock { $0.messages } }
    var readingCount: Int { state.withLock { $0.readings.values.reduce(0, +) } }
    var acknowledged: UInt64 { state.withLock { $0.highest } }
    /// Sequences that arrived twice with different contents: a reused number.
    var reusedSequences: [UInt64] { state.withLock { $0.reused } }
    var rejectedCount: Int { state.withLock { $0.rejected } }

    func close() {
        task.withLock { $0?.cancel() }
        client.close()
    }
}
