import Agent
import Aggregator
import AggregatorStore
import Crypto
import Identity
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// Answers `fieldproof/v1/<serial>/pair/req`: the store judges the request
/// against the enrollment (and binds the key) in one transaction; the
/// answer is signed by the aggregator and MACed with the enrollment's
/// verifier.
struct PairingResponder<Store: AggregatorDataStore>: Sendable {
    let store: Store
    let client: MQTTClient
    let key: Curve25519.Signing.PrivateKey
    let maximumAge: Duration
    let logger: Logger

    func answer(_ message: MQTTMessage) async {
        // The request itself, to answer it; what cannot be read gets no answer.
        guard let envelope = try? COSESign1(decoding: message.payload), let maced = try? MACedBody(decoding: envelope.payload),
              let request = try? PairRequest(decodingBody: maced.body) else {
            logger.warning("unreadable pairing request", metadata: ["topic": "\(message.topic)"])
            return
        }
        let now = Now.milliseconds()
        do {
            let (decision, verifier) = try await store.pair(bytes: message.payload, topic: message.topic, now: now, maximumAge: maximumAge)
            logger.info("pairing request", metadata: ["serial": "\(request.serial)", "decision": "\(Self.describe(decision))"])
            if case .malformed = decision { return }
            let answer = try PairingAuthority.response(to: request, decision: decision, verifier: verifier, aggregatorKey: key, now: UInt64(now))
            try await client.publish(topic: Topics.pairResponse(request.serial), payload: answer, qos: .atLeastOnce, retain: false)
        } catch {
            logger.error("pairing request failed", metadata: ["serial": "\(request.serial)", "reason": "\(error)"])
        }
    }

    static func describe(_ decision: PairingAuthority.Decision) -> String {
        switch decision {
        case let .accepted(publicKey, _): return "accepted, key \(KeyID.hex(KeyID.of(rawPublicKey: publicKey)))"
        case let .wrongPIN(left): return "wrong PIN, \(left) attempts left"
        case .expired: return "expired"
        case .locked: return "locked"
        case .alreadyUsed: return "PIN already used"
        case .unknownSerial: return "unknown serial"
        case .stale: return "stale or replayed"
        case let .malformed(reason): return "malformed: \(reason)"
        }
    }
}
