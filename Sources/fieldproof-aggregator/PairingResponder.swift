import Aggregator
import AggregatorStore
import Crypto
import Identity
import LinuxService
import Logging
import MQTT
import ServiceLifecycle
import Synchronization
import Wire

/// Answers `fieldproof/v1/<serial>/pair/req` (`PairingJudge`: open, take an
/// attempt, scrypt, bind) with an answer signed by the aggregator. A
/// request that is not sealed to us or not signed by its key gets no
/// answer. Each request is judged in a task of its own, at most
/// `maximumInFlight` at once (an scrypt costs ~0.1 s and 32 MiB): the
/// telemetry stream never waits behind pairing, and a flood of requests
/// is dropped (the device asks again), not queued without bound.
final class PairingResponder<Store: AggregatorDataStore>: Sendable {
    let judge: PairingJudge
    let client: MQTTClient
    let logger: Logger
    let metrics: AggregatorMetrics
    let maximumInFlight: Int
    private let inFlight = Mutex(0)

    init(store: Store, client: MQTTClient, identity: AggregatorIdentity, maximumAge: Duration, metrics: AggregatorMetrics, logger: Logger,
         maximumInFlight: Int = 2) {
        self.judge = PairingJudge(store: store, identity: identity, maximumAge: maximumAge)
        self.client = client
        self.metrics = metrics
        self.logger = logger
        self.maximumInFlight = maximumInFlight
    }

    func answer(_ message: MQTTMessage) {
        let admitted = inFlight.withLock { count in
            guard count < maximumInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else {
            metrics.pairing(outcome: "dropped")
            logger.warning("pairing request dropped: \(maximumInFlight) already being judged", metadata: ["topic": "\(message.topic)"])
            return
        }
        Task {
            defer { self.inFlight.withLock { $0 -= 1 } }
            await self.judgeAndAnswer(message)
        }
    }

    private func judgeAndAnswer(_ message: MQTTMessage) async {
        let now = Int64(WallClock.milliseconds())
        do {
            switch try await judge.judge(bytes: message.payload, topic: message.topic, now: now) {
            case let .failure(refusal):
                metrics.pairing(outcome: "unopened")
                logger.warning("pairing request not answered", metadata: ["topic": "\(message.topic)", "reason": "\(refusal.reason)"])
            case let .success((decision, request)):
                metrics.pairing(outcome: Self.outcome(decision))
                logger.info("pairing request", metadata: ["serial": "\(request.serial)", "decision": "\(Self.describe(decision))"])
                let answer = try PairingAuthority.response(to: request, decision: decision, aggregatorKey: judge.identity.signingKey,
                                                           now: UInt64(clamping: now))
                try await client.publish(topic: Topics.pairResponse(request.serial), payload: answer, qos: .atLeastOnce, retain: false)
            }
        } catch {
            logger.error("pairing request failed", metadata: ["topic": "\(message.topic)", "reason": "\(error)"])
        }
    }

    /// The decision's name in `AggregatorMetrics.pairingOutcomes`.
    static func outcome(_ decision: PairingAuthority.Decision) -> String {
        switch decision {
        case .accepted: return "accepted"
        case .wrongPIN: return "wrong_pin"
        case .expired: return "expired"
        case .locked: return "locked"
        case .alreadyUsed: return "already_used"
        case .unknownSerial: return "unknown_serial"
        case .revoked: return "revoked"
        case .stale, .malformed: return "stale"
        }
    }

    static func describe(_ decision: PairingAuthority.Decision) -> String {
        switch decision {
        case let .accepted(publicKey, _, highest): return "accepted, key \(KeyID.hex(KeyID.of(rawPublicKey: publicKey))), highest sequence held \(highest)"
        case let .wrongPIN(left): return "wrong PIN, \(left) attempts left"
        case .expired: return "expired"
        case .locked: return "locked"
        case .alreadyUsed: return "PIN already used"
        case .unknownSerial: return "unknown serial"
        case .revoked: return "serial revoked"
        case .stale: return "stale or replayed"
        case let .malformed(reason): return "malformed: \(reason)"
        }
    }
}

/// Keeps the aggregator's public keys retained on
/// `fieldproof/v1/aggregator/keys` (what a device checks against its
/// fingerprint before it pairs): published at start and again every
/// `interval`, so a broker restarted without persistence has them back soon.
struct KeyAnnouncementService<C: Clock>: Service where C.Duration == Duration {
    let client: MQTTClient
    let identity: AggregatorIdentity
    let interval: Duration
    /// What the wait between announcements runs on (tests move it by hand).
    let clock: C
    let logger: Logger

    func run() async throws {
        let announcement = try identity.signedAnnouncement()
        let (client, interval, clock, logger) = (client, interval, clock, logger)
        // The wait between announcements ends with the shutdown (SIGTERM must not wait for it).
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.publish(topic: Topics.aggregatorKeys, payload: announcement, qos: .atLeastOnce, retain: true)
                } catch {
                    logger.warning("cannot publish the aggregator's keys; retrying", metadata: ["reason": "\(error)"])
                }
                try await clock.sleep(for: interval)
            }
        }
    }
}
