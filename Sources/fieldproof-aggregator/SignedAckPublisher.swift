import Agent
import Aggregator
import AggregatorStore
import Crypto
import Identity
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Publishes the signed Ack (retained) after a commit moved a device's
/// highest contiguous sequence.
struct SignedAckPublisher: AckPublisher {
    let client: MQTTClient
    let key: Curve25519.Signing.PrivateKey

    func publishAck(serial: String, upTo sequence: UInt64) async throws {
        let signed = try PairingAuthority.ack(serial: serial, upTo: sequence, aggregatorKey: key, now: UInt64(Now.milliseconds()))
        try await client.publish(topic: Topics.ack(serial), payload: signed, qos: .atLeastOnce, retain: true)
    }
}
