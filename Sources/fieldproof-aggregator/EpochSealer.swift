import Aggregator
import AggregatorStore
import Crypto
import LinuxService
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Seals each epoch once its end and grace period have passed: the signed
/// Merkle root is stored and published, retained, on
/// `fieldproof/v1/epochs/<id>`. A root that could not be published is
/// published again on the next pass.
struct EpochSealer<Store: AggregatorDataStore, C: Clock>: Service where C.Duration == Duration {
    let store: Store
    let client: MQTTClient
    let key: Curve25519.Signing.PrivateKey
    let logger: Logger
    let interval: Duration
    /// What the wait between passes runs on; the epochs themselves follow
    /// the wall clock (`WallClock`), as their boundaries are Unix times.
    let clock: C

    func run() async throws {
        // Cancelled on graceful shutdown, so a sleep between passes ends at once.
        try await cancelWhenGracefulShutdown { try await passes() }
    }

    private func passes() async throws {
        var unpublished: [(id: String, signed: [UInt8])] = []
        while !Task.isCancelled {
            do {
                for start in try await store.closableEpochs(now: Int64(WallClock.milliseconds())) {
                    guard let (root, signed) = try await store.seal(epochStart: start, key: key, now: Int64(WallClock.milliseconds())) else { continue }
                    logger.info("epoch sealed", metadata: ["epoch": "\(root.id)", "messages": "\(root.messageCount)",
                                                           "root": "\(KeyID.hex(root.root))"])
                    unpublished.append((root.id, signed))
                }
            } catch {
                logger.error("sealing epochs failed; retrying", metadata: ["reason": "\(error)"])
            }
            var failed: [(id: String, signed: [UInt8])] = []
            for epoch in unpublished {
                do {
                    try await client.publish(topic: Topics.epoch(epoch.id), payload: epoch.signed, qos: .atLeastOnce, retain: true)
                } catch {
                    failed.append(epoch)
                }
            }
            unpublished = failed
            try? await clock.sleep(for: interval)
        }
    }
}
