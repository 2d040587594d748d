import Aggregator
import Foundation
import Logging
import Wire
import Synchronization
import LinuxService

/// The pipeline's verifier: `TelemetryVerifier`'s steps with the device's
/// keys looked up in the store between them. Keys are kept for
/// `keyLifetime` (default 2 s): a pairing or revocation takes effect
/// within that, and a busy aggregator makes one lookup per device per
/// lifetime instead of one per message. Replays are found by the store at
/// commit (`CommitResult.stored`), where several aggregators agree.
public struct TelemetryMessageVerifier<Store: AggregatorDataStore>: MessageVerifier {
    public let store: Store
    public let maximumFutureSkew: UInt64
    public let logger: Logger
    private let cache: KeyCache

    public init(store: Store, maximumFutureSkew: Duration = .seconds(300), keyLifetime: Duration = .seconds(2),
                logger: Logger = Logger(label: "fieldproof-verifier")) {
        self.store = store
        self.maximumFutureSkew = UInt64(maximumFutureSkew.components.seconds * 1000)
        self.logger = logger
        self.cache = KeyCache(lifetime: keyLifetime)
    }

    public func verify(_ message: IncomingMessage) async -> VerificationOutcome<StoredMessage> {
        let decoded: TelemetryVerifier.Decoded
        switch TelemetryVerifier.decode(bytes: message.payload, topic: message.topic) {
        case let .failure(rejection): return .rejected(serial: rejection.serial, reason: rejection.reason.rawValue)
        case let .success(value): decoded = value
        }
        // Bounds before the signature: see `TelemetryVerifier.checkBounds`.
        if let rejection = TelemetryVerifier.checkBounds(decoded) {
            return .rejected(serial: rejection.serial, reason: rejection.reason.rawValue)
        }
        let telemetry = decoded.telemetry
        let keys: DeviceKeys?
        if let cached = cache.keys(for: telemetry.serial) {
            keys = cached
        } else {
            keys = await retrying { try await store.deviceKeys(serial: telemetry.serial) } ?? nil
            cache.store(keys, for: telemetry.serial)
        }
        if let rejection = TelemetryVerifier.checkSignature(decoded, keys: keys) {
            return .rejected(serial: rejection.serial, reason: rejection.reason.rawValue)
        }
        switch TelemetryVerifier.checkFreshness(decoded, now: UInt64(clamping: message.receivedAt),
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
        await retryingUntilCancelled(failed: { error in
            logger.warning("store lookup failed; retrying", metadata: ["reason": "\(error)"])
        }, body)
    }
}

/// Device keys as looked up, for a short while.
final class KeyCache: Sendable {
    private let lifetime: Duration
    private let entries = Mutex<[String: (keys: DeviceKeys?, until: ContinuousClock.Instant)]>([:])

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// nil when not cached (or expired); `.some(nil)` for a serial known to be unknown.
    func keys(for serial: String) -> DeviceKeys?? {
        entries.withLock { entries in
            guard let entry = entries[serial], entry.until > .now else { return nil }
            return .some(entry.keys)
        }
    }

    func store(_ keys: DeviceKeys?, for serial: String) {
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[serial] = (keys, .now + lifetime)
        }
    }
}
