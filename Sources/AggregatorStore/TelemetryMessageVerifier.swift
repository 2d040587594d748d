import Aggregator
import Wire

/// The pipeline's verifier: `TelemetryVerifier` against a key registry,
/// giving the store what it keeps.
public struct TelemetryMessageVerifier<Registry: DeviceKeyRegistry>: MessageVerifier {
    public let registry: Registry

    public init(registry: Registry) {
        self.registry = registry
    }

    public func verify(_ message: IncomingMessage) async -> VerificationOutcome<StoredMessage> {
        switch TelemetryVerifier.verify(bytes: message.payload, topic: message.topic, registry: registry,
                                        now: UInt64(clamping: message.receivedAt)) {
        case let .accepted(verified):
            return .accepted(StoredMessage(verified, receivedAt: message.receivedAt))
        case let .rejected(reason, serial, _):
            return .rejected(serial: serial, reason: reason.rawValue)
        }
    }
}
