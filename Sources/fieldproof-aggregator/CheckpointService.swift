import Aggregator
import AggregatorStore
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Signs and publishes the transparency log's checkpoint, retained on
/// `fieldproof/v1/log/checkpoint`, every `interval` while the log grows:
/// what devices and witnesses pick up without polling HTTP. With
/// `witnesses`, each interval first asks them to cosign the newest
/// checkpoint, and what is published is the newest that reached their
/// quorum (nothing until one has). An unchanged checkpoint is not
/// published again; a failed publish is retried next time. After each
/// interval's checkpoint, devices acknowledged since get their log receipts.
struct CheckpointService<C: Clock>: Service where C.Duration == Duration {
    let log: LogPublisher
    var witnesses: WitnessCollector?
    let receipts: LogReceiptPublisher
    let client: MQTTClient
    let interval: Duration
    let clock: C
    let logger: Logger

    func run() async throws {
        let (log, witnesses, receipts, client, interval, clock, logger) = (log, witnesses, receipts, client, interval, clock, logger)
        try? await cancelWhenGracefulShutdown {
            var published: String?
            while !Task.isCancelled {
                do {
                    var note: String? = try await log.checkpoint()
                    if let witnesses, let signed = note { note = await witnesses.collect(signed) }
                    if let note, note != published {
                        try await client.publish(topic: Topics.logCheckpoint, payload: Array(note.utf8), qos: .atLeastOnce, retain: true)
                        published = note
                    }
                    if let published { await receipts.publish(checkpoint: published) }
                } catch {
                    logger.warning("cannot publish the log's checkpoint; retrying", metadata: ["reason": "\(error)"])
                }
                try await clock.sleep(for: interval)
            }
        }
    }
}
