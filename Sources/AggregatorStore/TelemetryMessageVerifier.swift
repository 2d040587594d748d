import Aggregator
import Logging
import Wire

/// The pipeline's verifier: `TelemetryVerifier`'s steps with the device's
/// keys and its stored sequences looked up in the store between them.
public struct TelemetryMessageVerifier<Store: AggregatorDataStore>: MessageVerifier {
    public let store: Store
    public let maximumFutureSkew: UInt64
    public let logger: Logger

    public init(store: Store, maximumFutureSkew: Duration = .seconds(300), logger: Logger = Logger(label: "fieldproof-verifier")) {
        self.store = store
        self.maximumFutureSkew = UInt64(maximumFutureSkew.components.seconds * 1000)
        self.logger = logger
    }

    public func verify(_ message: IncomingMessage) async -> VerificationOutcome<StoredMessage> {
        let decoded: TelemetryVerifier.Decoded
        switch TelemetryVerifier.decode(bytes: message.payload, topic: message.topic) {
        case let .failure(rejection): return .rejected(serial: rejection.serial, reason: rejection.reason.rawValue)
        case let .success(value): decoded = value
        }
        let telemetry = decoded.telemetry
        let keys = await retrying { try await store.deviceKeys(serial: telemetry.serial) } ?? nil
        if let rejection = TelemetryVerifier.checkSignature(decoded, keys: keys) {
            return .rejected(serial: rejection.serial, reason: rejection.reason.rawValue)
        }
        let stored = await retrying { try await store.isStored(serial: telemetry.serial, sequence: telemetry.sequence) } ?? false
        switch TelemetryVerifier.checkFreshness(decoded, alreadyAccepted: stored, now: UInt64(clamping: message.receivedAt),
                                                maximumFutureSkew: maximumFutureSkew) {
        case let .accepted(verified):
            return .accepted(StoredMessage(verified, receivedAt: message.receivedAt))
        case let .rejected(reason, serial, _):
            return .rejected(serial: serial, reason: reason.rawValue)
        }
    }

    /// A lookup that failed (the database restarting) is retried: the
    /// message must be judged, not dropped.
    private func retrying<T: Sendable>(_ body: @Sendable () async throws -> T) async -> T? {
        var delay = Duration.milliseconds(50)
        while !Task.isCancelled {
            do { return try await body() } catch {
                logger.warning("store lookup failed; retrying", metadata: ["reason": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return nil
    }
}
