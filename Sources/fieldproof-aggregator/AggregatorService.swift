import Aggregator
import AggregatorStore
import Crypto
import Hummingbird
import Identity
import LinuxService
import Logging
import MQTT
import ServiceLifecycle
import TransparencyLog
import Wire

/// The running aggregator: two MQTT connections (telemetry and pairing
/// requests in; Acks, receipts and pairing answers out) that reconnect
/// together, the verification pipeline over the store, and the HTTP
/// server, under one ServiceGroup that shuts down gracefully on
/// SIGTERM/SIGINT.
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
        // Both connections (the outgoing one copies this) back off alike,
        // and BrokerConnectionWatch brings them back together.
        mqtt.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(250), maximumDelay: broker.reconnectMaximumDelay)
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

    /// The witnesses of `log.witnesses` over HTTP, or nil without any.
    func witnessCollector(log: LogPublisher, verifier: NoteVerifier) async throws -> (collector: WitnessCollector, transport: BoundedHTTPClient)? {
        let settings = configuration.log
        guard !settings.witnesses.isEmpty else { return nil }
        let transport = BoundedHTTPClient(timeout: settings.witnessTimeout)
        let collector: WitnessCollector
        do {
            collector = try WitnessCollector(witnesses: settings.witnesses, quorum: settings.witnessQuorum, timeout: settings.witnessTimeout,
                                             log: verifier, transport: transport, proofs: { try await log.consistencyProof(from: $0, to: $1) },
                                             metrics: metrics, logger: logger)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        logger.info("collecting witness cosignatures", metadata: ["witnesses": "\(settings.witnesses.map(\.url).joined(separator: ", "))",
                                                                 "quorum": "\(settings.witnessQuorum)"])
        return (collector, transport)
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
        let identity = try AggregatorIdentity(seed: Array(key.rawRepresentation))
        let logSigner = try LogIdentity.signer(configuration: configuration, identity: identity)
        let logPublisher = LogPublisher(store: store, signer: logSigner)
        let witnessing = try await witnessCollector(log: logPublisher, verifier: logSigner.verifier)
        logger.info("connected", metadata: ["broker": "\(configuration.broker.host):\(configuration.broker.port)",
                                            "aggregator key": "\(KeyID.hex(KeyID.of(key.publicKey)))", "fingerprint": "\(identity.fingerprint)"])

        let receipts = LogReceiptPublisher(store: store, client: publisher, key: key, verifier: logSigner.verifier, logger: logger)
        let workers = configuration.verification.workers > 0 ? configuration.verification.workers : System.coreCount
        let pipeline = VerificationPipeline(verifier: TelemetryMessageVerifier(store: store, maximumFutureSkew: configuration.verification.maximumFutureSkew, logger: logger), committer: store,
                                            acks: SignedAckPublisher(client: publisher, key: key, receipts: receipts), workers: workers, metrics: metrics, logger: logger)
        let pairing = PairingResponder(store: store, client: publisher, identity: identity, maximumAge: configuration.pairing.maximumRequestAge,
                                       metrics: metrics, logger: logger)
        let http = AggregatorHTTPServer(host: configuration.http.host, port: configuration.http.port, readModel: store,
                                        operations: StoreOperations(store: store, identity: identity, maximumAttempts: configuration.pairing.maximumAttempts,
                                                                    pinLength: configuration.pairing.pinLength),
                                        operatorToken: configuration.http.operatorToken, metrics: metrics, logger: logger,
                                        transparencyLog: witnessing.map { WitnessedLog(log: logPublisher, collector: $0.collector) } ?? logPublisher)
        let notifier = SystemdNotifier()
        let logger = logger
        let application = http.application { port in
            logger.info("HTTP API and dashboard on http://\(configuration.http.host):\(port)/")
            notifier.ready(status: "verifying; HTTP on port \(port)")
        }
        let ingest = IngestService(client: client, pipeline: pipeline, pairing: pairing)
        let sealer = EpochSealer(store: store, client: publisher, key: key, logger: logger,
                                 interval: .milliseconds(max(1000, min(30_000, store.calendar.graceMilliseconds / 2))), clock: ContinuousClock())
        let announcer = KeyAnnouncementService(client: publisher, identity: identity, interval: .seconds(60), clock: ContinuousClock(), logger: logger)
        let checkpoints = CheckpointService(log: logPublisher, witnesses: witnessing?.collector, receipts: receipts, client: publisher,
                                            interval: configuration.log.checkpointInterval, clock: ContinuousClock(), logger: logger)
        let connections = BrokerConnectionWatch(connections: [.init(name: "intake", client: client), .init(name: "outgoing", client: publisher)],
                                                metrics: metrics, logger: logger)
        var services: [any Service] = [application, ingest, connections, sealer, announcer, checkpoints,
                                       HeapTrimService(interval: .seconds(1), clock: ContinuousClock())]
        if let interval = notifier.watchdogMicroseconds {
            services.append(WatchdogService(notifier: notifier, interval: .microseconds(Int64(interval / 2)), clock: ContinuousClock()))
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The witnesses' HTTP client must be shut down before it is released.
        do { try await group.run() } catch {
            try? await witnessing?.transport.shutdown()
            throw error
        }
        try? await witnessing?.transport.shutdown()
        publisher.close()
        notifier.stopping()
        logger.info("stopped")
    }
}

enum System {
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

#if canImport(Glibc)
import Glibc
#endif
