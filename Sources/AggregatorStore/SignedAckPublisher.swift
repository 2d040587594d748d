import Aggregator
import Crypto
import Foundation
import Identity
import MQTT
import Wire
import LinuxService

/// Publishes the signed Ack (retained) after a commit moved a device's
/// highest contiguous sequence: what lets the device drop those records
/// from its spool.
public struct SignedAckPublisher: AckPublisher {
    public let client: MQTTClient
    public let key: Curve25519.Signing.PrivateKey
    /// Told of every Ack, to send the device its log receipt later.
    public let receipts: LogReceiptPublisher?

    public init(client: MQTTClient, key: Curve25519.Signing.PrivateKey, receipts: LogReceiptPublisher? = nil) {
        self.client = client
        self.key = key
        self.receipts = receipts
    }

    public func publishAck(serial: String, upTo sequence: UInt64) async throws {
        let now = WallClock.milliseconds()
        let signed = try PairingAuthority.ack(serial: serial, upTo: sequence, aggregatorKey: key, now: now)
        try await client.publish(topic: Topics.ack(serial), payload: signed, qos: .atLeastOnce, retain: true)
        await receipts?.acknowledged(serial: serial, upTo: sequence)
    }
}
