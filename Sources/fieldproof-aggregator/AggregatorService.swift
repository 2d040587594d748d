import Agent
import Aggregator
import AggregatorStore
import Crypto
import Hummingbird
import Identity
import Logging
import MQTT
import ServiceLifecycle
import Wire

/// The running aggregator: one MQTT client (telemetry and pairing
/// requests in, Acks and pairing answers out), the verification pipeline
/// over the SQLite store, and the HTTP server, under one ServiceGroup that
/// shuts down gracefully on SIGTERM/SIGINT.
struct AggregatorService<Store: AggregatorDataStore> {
    let configuration: AggregatorConfiguration
    let store: Store
    let key: Curve25519.Signing.PrivateKey
    let logger: Logger
    let metrics = AggregatorMetrics()
    /// Telemetry and pairing requests in.
    let client: MQTTClient
    /// Acks, pairing answers and epoch roots out, on a connection of their
    /// own: when verification falls behind, the intake connection stops
    /// reading (back-pressure), and Acks must not wait behind it.
    let publisher: MQTTClient

    init(configuration: AggregatorConfiguration, store: Store, key: Curve25519.Signing.PrivateKey, logger: Logger) throws {
        self.configuration = configuration
        self.store = store
        self.key = key
        self.logger = logger
        let broker = configuration.broker
        var mqtt = MQTTConfiguration(host: broker.host, port: broker.port, clientID: broker.clientID)
        mqtt.username = broker.username
        mqtt.password = broker.password
        if let ca = broker.caFile {
            mqtt.tls = MQTTTLSConfiguration(caFile: ca, certificateFile: broker.certificateFile, keyFile: broker.keyFile)
        }
        // Alone, a persistent session lets the broker keep what arrives
        // while the aggregator restarts. In a shared group (MQTT 5) the
        // session must end with the connection: mosquitto keeps handing a
        // dead member's persistent session its share of the stream, where
        // it waits until that member returns. What was in flight to it is
        // re-sent by the devices, which only forget what an Ack covers.
        if broker.sharedGroup != nil {
            mqtt.protocolVersion = .v5
            mqtt.cleanSession = true
        } else {
            mqtt.cleanSession = false
        }
        // Back-pressure: when verification falls behind, libmosquitto's
        // thread stops reading and the broker holds the rest.
        mqtt.incomingQueueLimit = configuration.verification.queueLimit
        client = try MQTTClient(configuration: mqtt)
        var outgoing = mqtt
        outgoing.clientID = broker.clientID + "-out"
        outgoing.cleanSession = true
        outgoing.incomingQueueLimit = nil
        publisher = try MQTTClient(configuration: outgoing)
    }

    /// `$share/<group>/<filter>` when several aggregators split the stream.
    func filter(_ base: String) -> String {
        configuration.broker.sharedGroup.map { "$share/\($0)/\(base)" } ?? base
    }

    func run() async throws {
        try await publisher.connect()
        try await client.connect()
        try await client.subscribe(filter("fieldproof/v1/+/telemetry"), qos: .atLeastOnce)
        try await client.subscribe(filter("fieldproof/v1/+/pair/req"), qos: .atLeastOnce)
        logger.info("connected", metadata: ["broker": "\(configuration.broker.host):\(configuration.broker.port)",
                                            "aggregator key": "\(KeyID.hex(KeyID.of(key.publicKey)))"])

        let workers = configuration.verification.workers > 0 ? configuration.verification.workers : System.coreCount
        let pipeline = VerificationPipeline(verifier: TelemetryMessageVerifier(store: store, maximumFutureSkew: configuration.verification.maximumFutureSkew, logger: logger), committer: store,
                                            acks: SignedAckPublisher(client: publisher, key: key), workers: workers, metrics: metrics, logger: logger)
        let pairing = PairingResponder(store: store, client: publisher, key: key, maximumAge: configuration.pairing.maximumRequestAge, logger: logger)
        let http = AggregatorHTTPServer(host: configuration.http.host, port: configuration.http.port, readModel: store,
                                        operations: StoreOperations(store: store, maximumAttempts: configuration.pairing.maximumAttempts,
                                                                    pinLength: configuration.pairing.pinLength),
                                        operatorToken: configuration.http.operatorToken, metrics: metrics, logger: logger)
        let notifier = SystemdNotifier()
        let logger = logger
        let application = http.application { port in
            logger.info("HTTP API and dashboard on http://\(configuration.http.host):\(port)/")
            notifier.ready(status: "verifying; HTTP on port \(port)")
        }
        let ingest = IngestService(client: client, pipeline: pipeline, pairing: pairing)
        let sealer = EpochSealer(store: store, client: publisher, key: key, logger: logger,
                                 interval: .milliseconds(max(1000, min(30_000, store.calendar.graceMilliseconds / 2))))
        var services: [any Service] = [application, ingest, sealer]
        if let interval = notifier.watchdogMicroseconds {
            services.append(WatchdogService(notifier: notifier, interval: .microseconds(Int64(interval / 2))))
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        publisher.close()
        notifier.stopping()
        logger.info("stopped")
    }
}

/// Reads the broker's messages: pairing requests are answered on the spot,
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
                await pairing.answer(message)
                return nil
            }
            return IncomingMessage(topic: message.topic, payload: message.payload, receivedAt: Now.milliseconds())
        }
        let client = client
        await withGracefulShutdownHandler {
            await pipeline.run(messages, now: { Now.milliseconds() })
        } onGracefulShutdown: {
            client.close()
        }
    }
}

/// Seals each epoch once its end and grace period have passed: the signed
/// Merkle root is stored and published, retained, on
/// `fieldproof/v1/epochs/<id>`. A root that could not be published is
/// published again on the next pass.
struct EpochSealer<Store: AggregatorDataStore>: Service {
    let store: Store
    let client: MQTTClient
    let key: Curve25519.Signing.PrivateKey
    let logger: Logger
    let interval: Duration

    func run() async throws {
        // Cancelled on graceful shutdown, so a sleep between passes ends at once.
        try await cancelWhenGracefulShutdown { try await passes() }
    }

    private func passes() async throws {
        var unpublished: [(id: String, signed: [UInt8])] = []
        while !Task.isCancelled {
            do {
                for start in try await store.closableEpochs(now: Now.milliseconds()) {
                    guard let (root, signed) = try await store.seal(epochStart: start, key: key, now: Now.milliseconds()) else { continue }
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
            try? await Task.sleep(for: interval)
        }
    }
}

/// `WATCHDOG=1` at half the interval systemd asked for, while the service runs.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.watchdog()
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// Publishes the signed Ack (retained) after a commit moved a device's
/// highest contiguous sequence.
struct SignedAckPublisher: AckPublisher {
    let client: MQTTClient
    let key: Curve25519.Signing.PrivateKey

    func publishAck(serial: String, upTo sequence: UInt64) async throws {
        let signed = try PairingAuthority.ack(serial: serial, upTo: sequence, aggregatorKey: key, now: UInt64(Now.milliseconds()))
        try await client.publish(topic: Topics.ack(serial), payload: signed, qos: .atLeastOnce, retain: true)
    }
}

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

enum System {
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

#if canImport(Glibc)
import Glibc
#endif
