import ConfigFile
import LinuxService
import Logging
import MQTT
import Synchronization
import Wire

/// The daemon: samples the sensors, signs each tick's readings into one
/// Telemetry message, spools it durably, and delivers it until the
/// aggregator acknowledges it. Also keeps the status file, the retained
/// availability message and systemd's notify/watchdog protocol.
public final class AgentRuntime<C: Clock>: Sendable where C.Duration == Duration {
    public struct Dependencies: Sendable {
        public var sensors: [any SampledSensor]
        /// nil while the device is not paired: nothing is published then.
        public var signer: (any TelemetrySigner)?
        public var ackVerifier: (any AckVerifier)?
        /// Set when the device audits its data in the transparency log: the
        /// spool then keeps acknowledged records until a receipt proves them.
        public var logVerifier: (any LogReceiptVerifier)?
        public var board: String?
        public var version: String
        public var clock: DeviceClock
        public var notifier: SystemdNotifier
        public var logger: Logger

        public init(sensors: [any SampledSensor], signer: (any TelemetrySigner)?, ackVerifier: (any AckVerifier)?, board: String?,
                    version: String, clock: DeviceClock = DeviceClock(), notifier: SystemdNotifier = SystemdNotifier(), logger: Logger,
                    logVerifier: (any LogReceiptVerifier)? = nil) {
            self.sensors = sensors
            self.signer = signer
            self.ackVerifier = ackVerifier
            self.logVerifier = logVerifier
            self.board = board
            self.version = version
            self.clock = clock
            self.notifier = notifier
            self.logger = logger
        }
    }

    struct Live: ~Copyable {
        var sensors: [String: DeviceStatus.Sensor] = [:]
        var brokerConnected = false
        var brokerError: String?
        var brokerSince: UInt64?
        var lastSequence: UInt64 = 0
        var ready = false
        var tasks: [Task<Void, Never>] = []
        var stopping = false
    }

    public let configuration: AgentConfiguration
    let dependencies: Dependencies
    let spool: SharedSpool
    let client: MQTTClient
    let engine: DeliveryEngine<C>
    /// The monotonic clock every interval and wait runs on (sampling,
    /// status writes, resends); tests pass one they move. Readings are
    /// stamped by `dependencies.clock`, the device's wall clock.
    let timing: C
    let counter: Mutex<SequenceCounter>
    /// Sequences signed and skipped across runs, for the status.
    let ledger: SequenceLedger
    let live = Mutex(Live())
    /// Held while the status file is written: the sampling loop, the broker
    /// watcher and the log audit all write it, and the write goes through one
    /// temporary name (`status.json.tmp`), so two at once truncated each
    /// other's temporary and renamed half a file into place (a reader saw
    /// invalid JSON under the full test suite's load).
    private let statusWrite = Mutex(())
    /// nil unless `dependencies.logVerifier` is set.
    let logAudit: DeviceLogAudit?

    public var telemetryTopic: String { "fieldproof/v1/\(configuration.serial)/telemetry" }
    public var statusTopic: String { "fieldproof/v1/\(configuration.serial)/status" }
    public var ackTopic: String { "fieldproof/v1/\(configuration.serial)/ack" }
    public var logReceiptTopic: String { Topics.logReceipt(configuration.serial) }

    public init(configuration: AgentConfiguration, dependencies: Dependencies, timing: C) throws {
        self.configuration = configuration
        self.timing = timing
        self.dependencies = dependencies
        try FileIO.makeDirectory(configuration.stateDirectory)
        // Others may read the status (systemd's RuntimeDirectoryMode= default).
        try FileIO.makeDirectory(configuration.runtimeDirectory, mode: 0o755)
        var spoolConfiguration = configuration.spool
        spoolConfiguration.keepUntilLogged = dependencies.logVerifier != nil
        spool = SharedSpool(try Spool(configuration: spoolConfiguration))
        logAudit = dependencies.logVerifier == nil ? nil : try DeviceLogAudit(stateDirectory: configuration.stateDirectory)
        counter = Mutex(try SequenceCounter(path: configuration.stateDirectory + "/sequence"))

        var mqtt = configuration.broker.mqttConfiguration(clientID: configuration.serial)
        mqtt.keepAlive = Int(configuration.broker.keepAlive.components.seconds)
        mqtt.maximumInflight = configuration.publishing.window
        mqtt.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(250), maximumDelay: configuration.broker.reconnectMaximumDelay)
        mqtt.will = MQTTWill(topic: "fieldproof/v1/\(configuration.serial)/status", payload: AvailabilityMessage.offline, qos: .atLeastOnce, retain: true)
        client = try MQTTClient(configuration: mqtt)
        engine = DeliveryEngine(spool: spool, client: client, topic: "fieldproof/v1/\(configuration.serial)/telemetry",
                                window: configuration.publishing.window, resendAfter: configuration.publishing.resendAfter, clock: timing)
        // Until the first new sample, the last sequence is what the spool
        // (or the acknowledgement) says was used before this start.
        let previous = max(spool.lastSequence, spool.statistics.acknowledgedUpTo)
        let ledgerPath = SequenceLedger.path(inStateDirectory: configuration.stateDirectory)
        var ledger = try SequenceLedger.load(path: ledgerPath)
        if ledger.start(previous: previous, next: counter.withLock { $0.peek }) { try ledger.save(path: ledgerPath) }
        self.ledger = ledger
        live.withLock { state in
            state.lastSequence = previous
            for sensor in dependencies.sensors {
                state.sensors[sensor.name] = DeviceStatus.Sensor(name: sensor.name, driver: sensor.driver)
            }
        }
    }

    var logger: Logger { dependencies.logger }

    /// Starts connecting, delivering, acknowledging and sampling.
    public func start() {
        if dependencies.signer == nil {
            logger.warning("this device is not paired: readings are taken but not published; pair it with `fieldproof pair` (the daemon picks up the new identity on restart or SIGHUP)")
        }
        client.start()
        let tasks = [
            Task { await self.watchConnection() },
            Task { await self.listenForAcknowledgements() },
            Task { await self.engine.run() },
            Task { await self.sampleUntilStopped() },
        ]
        live.withLock { $0.tasks = tasks }
        if dependencies.sensors.isEmpty { markReady() }
    }

    /// Stops sampling, gives delivery up to `drainTimeout` to empty the
    /// spool, says "offline", and disconnects. What is unsent stays spooled.
    /// Returns whether the spool was empty at the end.
    @discardableResult
    public func stop(drainTimeout: Duration) async -> Bool {
        dependencies.notifier.stopping()
        let tasks = live.withLock { state -> [Task<Void, Never>] in
            state.stopping = true
            return state.tasks
        }
        // The sampler stops first; delivery keeps going while draining.
        tasks.last?.cancel()
        _ = await tasks.last?.value
        let drained = dependencies.signer == nil ? true : await engine.drain(timeout: drainTimeout)
        if client.isConnected {
            try? await withTimeout(.seconds(2)) {
                try await self.client.publish(topic: self.statusTopic, payload: AvailabilityMessage.offline, qos: .atLeastOnce, retain: true)
            }
        }
        for task in tasks { task.cancel() }
        try? spool.sync()
        writeStatus()
        client.close()
        logger.info("stopped", metadata: ["spooled": "\(spool.statistics.records)", "drained": "\(drained)"])
        return drained
    }

    func markReady() {
        let first = live.withLock { state -> Bool in
            defer { state.ready = true }
            return !state.ready
        }
        if first {
            dependencies.notifier.ready(status: "sampling \(dependencies.sensors.count) sensor(s)")
            logger.info("ready", metadata: ["sensors": "\(dependencies.sensors.count)", "paired": "\(dependencies.signer != nil)"])
        }
    }

    // MARK: Status

    public func currentStatus() -> DeviceStatus {
        let now = WallClock.milliseconds()
        let synchronised = dependencies.clock.now().synchronised
        let statistics = spool.statistics
        return live.withLock { state in
            DeviceStatus(
                version: dependencies.version, serial: configuration.serial, pid: getpidValue(), updatedAt: now,
                paired: dependencies.signer != nil, keyID: dependencies.signer?.keyID, board: dependencies.board,
                clockSynchronised: synchronised, lastSequence: state.lastSequence,
                sequences: .init(first: ledger.first, signed: ledger.signed(upTo: state.lastSequence), skipped: ledger.skipped),
                broker: .init(address: "\(configuration.broker.host):\(configuration.broker.port)", connected: state.brokerConnected,
                              lastError: state.brokerError, since: state.brokerSince),
                sensors: dependencies.sensors.compactMap { state.sensors[$0.name] },
                spool: .init(statistics, now: now), log: logAudit?.status(spool: statistics))
        }
    }

    func writeStatus() {
        do {
            // The snapshot is taken inside the lock too, so the last file written holds the newest state.
            try statusWrite.withLock { _ throws in try currentStatus().write(toRuntimeDirectory: configuration.runtimeDirectory) }
        } catch {
            logger.warning("could not write the status file", metadata: ["reason": "\(error)"])
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func getpidValue() -> Int32 { getpid() }

/// Runs `body`, giving up after `timeout`.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: timeout); return false }
        _ = try await group.next()
        group.cancelAll()
    }
}

extension AgentRuntime where C == ContinuousClock {
    public convenience init(configuration: AgentConfiguration, dependencies: Dependencies) throws {
        try self.init(configuration: configuration, dependencies: dependencies, timing: ContinuousClock())
    }
}

extension DeviceStatus.Sensor.Pace {
    init<C: Clock>(_ pace: Sampler<C>.Pace) where C.Duration == Duration {
        self.init(intervalMilliseconds: DurationText.milliseconds(pace.interval) ?? .max, readsPerSecond: pace.readsPerSecond, behind: pace.behind,
                  skippedSlots: pace.skippedSlots, lastReadMilliseconds: pace.lastReadDuration.flatMap { DurationText.milliseconds($0) })
    }
}
