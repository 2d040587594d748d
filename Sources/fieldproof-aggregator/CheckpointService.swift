import AggregatorStore
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Signs and publishes the transparency log's checkpoint, retained on
/// `fieldproof/v1/log/checkpoint`, every `interval` while the log grows:
/// what devices and witnesses pick up without polling HTTP. An unchanged
/// log is not published again; a failed publish is retried next time.
struct CheckpointService<C: Clock>: Service where C.Duration == Duration {
    let log: LogPublisher
    let client: MQTTClient
    let interval: Duration
    let clock: C
    let logger: Logger

    func run() async throws {
        let (log, client, interval, clock, logger) = (log, client, interval, clock, logger)
        try? await cancelWhenGracefulShutdown {
            var published: String?
            while !Task.isCancelled {
                do {
                    let note = try await log.checkpoint()
                    if note != published {
                        try await client.publish(topic: Topics.logCheckpoint, payload: Array(note.utf8), qos: .atLeastOnce, retain: true)
                        published = note
                    }
                } catch {
                    logger.warning("cannot publish the log's checkpoint; retrying", metadata: ["reason": "\(error)"])
                }
                try await clock.sleep(for: interval)
            }
        }
    }
}
