import ConfigFile
import TransparencyLog
import LinuxService
import MQTT

/// The daemon's configuration (`/etc/fieldproof/agent.yaml`; the commented
/// example is `config/agent.yaml`). Loading validates everything and throws
/// a `ConfigError` naming file, line, column and an example of a right line.
public struct AgentConfiguration: Equatable, Sendable {
    public struct Broker: Equatable, Sendable {
        public var host = "127.0.0.1"
        public var port = 1883
        public var username: String?
        public var password: String?
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var keepAlive: Duration = .seconds(30)
        /// Reconnect attempts back off exponentially (with jitter) up to this.
        public var reconnectMaximumDelay: Duration = .seconds(30)
    }

    public struct Publishing: Equatable, Sendable {
        public var window = 32
        /// The least wait for an acknowledgement before resending; the
        /// delivery engine stretches it to measured round trips.
        public var resendAfter: Duration = .seconds(10)
        /// Readings of one tick go into one message; at most this many.
        public var maximumReadingsPerMessage = 64
    }

    public var file: String
    public var serial: String
    public var stateDirectory = "/var/lib/fieldproof"
    /// Where runtime state goes (`status.json`, rewritten every second):
    /// tmpfs under systemd's `RuntimeDirectory=`, not the SD card. Durable
    /// state (secret, identity, sequence, spool) stays in `stateDirectory`.
    public var runtimeDirectory = "/run/fieldproof"
    public var board = "auto"
    public var simulate = false
    public var logLevel = "info"
    /// Whether messages say the wall clock is synchronised: `kernel` asks
    /// the kernel (adjtimex), `trusted` always says yes — for a container
    /// whose host keeps time but whose kernel view says unsynchronised. The
    /// aggregator re-times an unsynchronised boot only once it reports a
    /// synchronised message, so a wrong `trusted` puts readings at the
    /// wrong time.
    public var clock = ClockSource.kernel
    public var broker = Broker()
    /// The fingerprint of the aggregator's keys (`enroll` prints it): what
    /// `fieldproof pair` trusts before it sends the PIN. nil: it must be
    /// given on the command line.
    public var aggregatorFingerprint: String?
    public var publishing = Publishing()
    public var sensors: [SensorSpec] = []
    public var spool: SpoolConfiguration
    public var log = LogAudit()

    /// The `log:` section: whether the device audits its data in the
    /// aggregator's transparency log, and the witnesses whose cosignatures
    /// a checkpoint must carry before the device accepts it.
    public struct LogAudit: Equatable, Sendable {
        public var audit = true
        /// Cosigner verifier keys (what `fieldproof-witness verifier-key` prints).
        public var witnesses: [String] = []
        public var witnessQuorum = 0

        public init(audit: Bool = true, witnesses: [String] = [], witnessQuorum: Int = 0) {
            self.audit = audit
            self.witnesses = witnesses
            self.witnessQuorum = witnessQuorum
        }
    }

    /// Reads and validates `text` (the contents of `file`). `knownDrivers`
    /// lists the driver names the sensor registry offers.
    public static func parse(_ text: String, file: String, knownDrivers: [String]) throws(ConfigError) -> AgentConfiguration {
        let root = try ConfigSection.root(text: text, file: file)
        let serial = try root.string("serial", default: nil, example: "serial: fp-0001")
        guard Self.isValidSerial(serial) else {
            throw root.error("serial", "\"\(serial)\" must be 1–64 letters, digits, '-' or '_' (it becomes part of MQTT topics)",
                             example: "serial: fp-0001")
        }
        let stateDirectory = try root.string("state_directory", default: "/var/lib/fieldproof", example: "state_directory: /var/lib/fieldproof")
        var config = AgentConfiguration(file: file, serial: serial, stateDirectory: stateDirectory,
                                        spool: SpoolConfiguration(directory: stateDirectory + "/spool"))
        config.runtimeDirectory = try root.string("runtime_directory", default: "/run/fieldproof", example: "runtime_directory: /run/fieldproof")
        guard config.runtimeDirectory.hasPrefix("/") else {
            throw root.error("runtime_directory", "\"\(config.runtimeDirectory)\" must be an absolute path", example: "runtime_directory: /run/fieldproof")
        }
        guard config.runtimeDirectory != stateDirectory else {
            throw root.error("runtime_directory", "must not be the state directory (\(stateDirectory)): it is rewritten every second and belongs on tmpfs",
                             example: "runtime_directory: /run/fieldproof")
        }
        config.board = try root.string("board", default: "auto", example: "board: raspberry-pi-4b")
        config.simulate = try root.bool("simulate", default: false, example: "simulate: false")
        config.logLevel = try root.choice("log_level", from: ["error", "warning", "info", "debug"], default: "info")
        config.clock = ClockSource(rawValue: try root.choice("clock", from: ClockSource.allCases.map(\.rawValue), default: "kernel")) ?? .kernel
        if let fingerprint = try root.string("aggregator_fingerprint", example: "aggregator_fingerprint: 3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a") {
            let digits = fingerprint.lowercased().filter { $0 != "-" && $0 != " " && $0 != ":" }
            guard digits.count == 32, digits.allSatisfy(\.isHexDigit) else {
                throw root.error("aggregator_fingerprint", "must be the 32 hex digits `fieldproof-aggregator enroll` prints",
                                 example: "aggregator_fingerprint: 3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a")
            }
            config.aggregatorFingerprint = fingerprint
        }

        if let broker = try root.section("broker") {
            config.broker.host = try broker.string("host", default: "127.0.0.1", example: "host: mqtt.example.net")
            config.broker.port = try broker.int("port", default: 1883, in: 1...65_535, example: "port: 8883")
            config.broker.username = try broker.string("username", example: "username: \(serial)")
            config.broker.password = try broker.string("password", example: "password: s3cret")
            if let passwordFile = try broker.string("password_file", example: "password_file: /etc/fieldproof/mqtt-password") {
                guard config.broker.password == nil else {
                    throw broker.error("password_file", "set either password or password_file, not both")
                }
                config.broker.password = try Self.readSecret(passwordFile, section: broker, key: "password_file")
            }
            config.broker.keepAlive = try broker.duration("keep_alive", default: .seconds(30), minimum: .seconds(5))
            config.broker.reconnectMaximumDelay = try broker.duration("reconnect_max_delay", default: .seconds(30), minimum: .milliseconds(100))
            if let tls = try broker.section("tls") {
                config.broker.caFile = try tls.string("ca_file", default: nil, example: "ca_file: /etc/fieldproof/ca.crt")
                config.broker.certificateFile = try tls.string("cert_file", example: "cert_file: /etc/fieldproof/device.crt")
                config.broker.keyFile = try tls.string("key_file", example: "key_file: /etc/fieldproof/device.key")
                if (config.broker.certificateFile == nil) != (config.broker.keyFile == nil) {
                    throw tls.error(config.broker.keyFile == nil ? "cert_file" : "key_file",
                                    "a client certificate needs both cert_file and key_file")
                }
                try tls.finish()
            }
            try broker.finish()
        }
        if config.broker.username == nil { config.broker.username = serial }

        if let publishing = try root.section("publishing") {
            config.publishing.window = try publishing.int("window", default: 32, in: 1...1000, example: "window: 32")
            config.publishing.resendAfter = try publishing.duration("resend_after", default: .seconds(10), minimum: .milliseconds(100))
            config.publishing.maximumReadingsPerMessage = try publishing.int("max_readings_per_message", default: 64, in: 1...1000)
            try publishing.finish()
        }

        if let spool = try root.section("spool") {
            config.spool.maximumBytes = try spool.byteSize("max_bytes", default: 64 << 20, minimum: 8192, example: "max_bytes: 64MiB")
            config.spool.segmentBytes = try spool.byteSize("segment_bytes", default: 1 << 20, minimum: 4096, example: "segment_bytes: 1MiB")
            if config.spool.maximumBytes < 2 * config.spool.segmentBytes {
                throw spool.error("max_bytes", "must be at least twice segment_bytes", example: "max_bytes: 64MiB")
            }
            switch try spool.choice("fsync", from: ["group", "record"], default: "group") {
            case "record":
                config.spool.durability = .everyRecord
            default:
                let interval = try spool.duration("group_commit", default: .milliseconds(200), minimum: .milliseconds(1))
                config.spool.durability = .groupCommit(milliseconds: Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000))
            }
            try spool.finish()
        }

        if let log = try root.section("log") {
            config.log = try Self.parseLog(log)
        }

        var names: [String: Int] = [:]
        for entry in try root.sections("sensors") {
            let name = try entry.string("name", default: nil, example: "name: air")
            guard Self.isValidSerial(name) else {
                throw entry.error("name", "\"\(name)\" must be letters, digits, '-' or '_'", example: "name: air")
            }
            if let first = names[name] {
                throw entry.error("name", "sensor name \"\(name)\" is already used on line \(first); names must be unique")
            }
            names[name] = entry.node.line
            let driver = try entry.string("driver", default: nil, example: "driver: \(knownDrivers.first ?? "bme280")")
            guard knownDrivers.contains(driver) else {
                throw entry.error("driver", "unknown driver \"\(driver)\"; known drivers: \(knownDrivers.joined(separator: ", "))")
            }
            let sensor = SensorSpec(
                name: name, driver: driver,
                bus: try entry.int("bus", in: 0...255, example: "bus: 1"),
                address: try entry.int("address", in: 0x03...0x77, example: "address: 0x76"),
                chip: try entry.string("chip", example: "chip: gpiochip0"),
                line: try entry.int("line", in: 0...1023, example: "line: 17"),
                pin: try entry.int("pin", in: 1...40, example: "pin: 11"),
                interval: try entry.duration("interval", default: .seconds(10), minimum: .milliseconds(10)),
                options: try entry.scalars("options"),
                file: file, lineNumber: entry.node.line)
            if sensor.line != nil && sensor.pin != nil {
                throw entry.error("pin", "set either line (chip line offset) or pin (header pin), not both")
            }
            try entry.finish()
            config.sensors.append(sensor)
        }
        try root.finish()
        return config
    }

    private static func parseLog(_ log: ConfigSection) throws(ConfigError) -> LogAudit {
        let keyExample = "witnesses:\n    - witness.example/w1+1a2b3c4d+BAbc... (what `fieldproof-witness verifier-key` prints)"
        var config = LogAudit()
        config.audit = try log.bool("audit", default: true, example: "audit: true")
        for (index, key) in try log.strings("witnesses", example: keyExample).enumerated() {
            guard let witness = try? TlogProof.TrustedWitness(verifierKey: key) else {
                throw log.error("witnesses", "entry \(index + 1) is not a cosigner verifier key (name+hexid+base64 of 0x04 and the key)",
                                example: keyExample)
            }
            if config.witnesses.contains(where: { (try? TlogProof.TrustedWitness(verifierKey: $0))?.name == witness.name }) {
                throw log.error("witnesses", "a witness named \(witness.name) is listed twice; list each witness once")
            }
            config.witnesses.append(key)
        }
        let count = config.witnesses.count
        config.witnessQuorum = try log.int("witness_quorum", example: "witness_quorum: \(count)") ?? count
        if count == 0, config.witnessQuorum > 0 {
            throw log.error("witness_quorum", "a quorum needs witnesses: list their keys under log.witnesses", example: keyExample)
        }
        if count > 0, !(1...count).contains(config.witnessQuorum) {
            throw log.error("witness_quorum", "\(config.witnessQuorum) cosignatures cannot be had from the \(count) witness(es) listed; "
                                + "set 1 to \(count), or leave it out to require all of them", example: "witness_quorum: \(count)")
        }
        try log.finish()
        return config
    }

    static func isValidSerial(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_" }
    }

    private static func readSecret(_ path: String, section: ConfigSection, key: String) throws(ConfigError) -> String {
        let bytes: [UInt8]?
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw section.error(key, "cannot read \(path): \(error)")
        }
        guard let bytes else { throw section.error(key, "\(path) does not exist") }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension AgentConfiguration.Broker {
    /// Where and as whom to connect: host, port, credentials and TLS, the
    /// part every connection the device makes shares (the daemon's, `pair`'s,
    /// `doctor`'s); each adds what is its own.
    public func mqttConfiguration(clientID: String) -> MQTTConfiguration {
        var mqtt = MQTTConfiguration(host: host, port: port, clientID: clientID)
        mqtt.username = username
        mqtt.password = password
        if let caFile { mqtt.tls = MQTTTLSConfiguration(caFile: caFile, certificateFile: certificateFile, keyFile: keyFile) }
        return mqtt
    }
}

/// Where the "clock synchronised" flag of every message comes from.
public enum ClockSource: String, CaseIterable, Equatable, Sendable {
    case kernel
    case trusted

    /// A device clock answering the flag this way.
    public func deviceClock() -> DeviceClock {
        switch self {
        case .kernel: DeviceClock()
        case .trusted: DeviceClock(isSynchronised: { true })
        }
    }
}
