import Aggregator
import AggregatorStore
import Crypto
import LinuxService
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Reads the broker's messages: pairing requests are handed to the responder,
/// telemetry goes through the pipeline. On graceful shutdown the client
/// closes, the stream ends, and the pipeline finishes what is in flight.
struct IngestService<Verifier: MessageVerifier, Committer: MessageCommitter, Store: AggregatorDataStore>: Service
where Verifier.Accepted == Committer.Accepted {
    let client: MQTTClient
    let pipeline: VerificationPipeline<Verifier, Committer>
    let pairing: PairingResponder<Store>

    func run() async throws {
        let pairing = pairing
        let messages = client.messages.compactMap { message -> IncomingMessage? in
            if message.topic.hasSuffix("/pair/req") {
                pairing.answer(message)
                return nil
            }
            return IncomingMessage(topic: message.topic, payload: message.payload, receivedAt: Int64(WallClock.milliseconds()))
        }
        let client = client
        await withGracefulShutdownHandler {
            await pipeline.run(messages, now: { Int64(WallClock.milliseconds()) })
        } onGracefulShutdown: {
            client.close()
        }
    }
}
