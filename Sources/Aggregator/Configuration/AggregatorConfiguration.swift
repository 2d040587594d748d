import ConfigFile
import LinuxService

/// The aggregator's configuration (`aggregator.yaml`; the commented example
/// is `config/aggregator.yaml`). Loading validates everything and throws a
/// `ConfigError` naming file, line, column and an example of a right line.
public struct AggregatorConfiguration: Equatable, Sendable {
    public struct Broker: Equatable, Sendable {
        public var host = "127.0.0.1"
        public var port = 1883
        public var clientID = "fieldproof-aggregator"
        public var username: String? = "fieldproof-aggregator"
        public var password: String?
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        /// MQTT 5 shared subscription group: several aggregators split the stream.
        public var sharedGroup: String?
        /// Reconnect attempts back off exponentially (with jitter) up to this.
        /// Short by default: one aggregator coming back fast is what lets a
        /// fleet's spools drain, where a fleet of devices needs the long cap.
        public var reconnectMaximumDelay: Duration = .seconds(5)
    }

    public enum Store: Equatable, Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public struct HTTP: Equatable, Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var operatorToken: String?
    }

    public struct Verification: Equatable, Sendable {
        /// 0: one per core.
        public var workers = 0
        public var queueLimit = 10_000
        public var maximumFutureSkew: Duration = .seconds(300)
    }

    public struct Pairing: Equatable, Sendable {
        public var maximumAttempts = 5
        public var pinLength = 8
        public var defaultExpiry: Duration = .seconds(24 * 3600)
        public var maximumRequestAge: Duration = .seconds(600)
    }

    /// The transparency log (issue 16): its origin line, which is also
    /// the name of its note key. nil: derived from the key's fingerprint.
    public struct Log: Equatable, Sendable {
        public var origin: String?
        /// How often a new checkpoint is signed and published while entries arrive.
        public var checkpointInterval: Duration = .seconds(10)
        /// Witnesses asked to cosign each new checkpoint; none: the
        /// checkpoint is served and published with the aggregator's signature alone.
        public var witnesses: [WitnessEndpoint] = []
        /// Valid cosignatures a checkpoint needs before it is served and
        /// published: 1 to the number of witnesses (default: all of them).
        public var witnessQuorum = 0
        /// How long one add-checkpoint request to a witness may take.
        public var witnessTimeout: Duration = .seconds(5)
    }

    public var file: String
    public var stateDirectory = "/var/lib/fieldproof-aggregator"
    /// The aggregator's Ed25519 key (made on first use). Aggregators that
    /// share a database and a `$share` group must share this key too:
    /// devices pin one aggregator key when they pair.
    public var signingKeyFile: String
    public var logLevel = "info"
    public var broker = Broker()
    public var store: Store
    public var http = HTTP()
    public var epochLength: Duration = .seconds(3600)
    public var epochGrace: Duration = .seconds(300)
    public var verification = Verification()
    public var pairing = Pairing()
    public var log = Log()

    public static func parse(_ text: String, file: String) throws(ConfigError) -> AggregatorConfiguration {
        let root = try ConfigSection.root(text: text, file: file)
        let state = try root.string("state_directory", default: "/var/lib/fieldproof-aggregator",
                                    example: "state_directory: /var/lib/fieldproof-aggregator")
        var config = AggregatorConfiguration(file: file, stateDirectory: state, signingKeyFile: state + "/aggregator.key",
                                             store: .sqlite(path: state + "/tallies.sqlite"))
        config.signingKeyFile = try root.string("signing_key_file", default: state + "/aggregator.key",
                                                example: "signing_key_file: /etc/fieldproof/aggregator.key")
        config.logLevel = try root.choice("log_level", from: ["error", "warning", "info", "debug"], default: "info")

        if let broker = try root.section("broker") {
            config.broker.host = try broker.string("host", default: "127.0.0.1", example: "host: 127.0.0.1")
            config.broker.port = try broker.int("port", default: 1883, in: 1...65_535, example: "port: 1883")
            config.broker.clientID = try broker.string("client_id", default: "fieldproof-aggregator", example: "client_id: aggregator-1")
            config.broker.username = try broker.string("username", example: "username: fieldproof-aggregator") ?? config.broker.username
            config.broker.password = try broker.string("password", example: "password: s3cret")
            if let file = try broker.string("password_file", example: "password_file: /etc/fieldproof/aggregator-mqtt-password") {
                guard config.broker.password == nil else { throw broker.error("password_file", "set either password or password_file, not both") }
                config.broker.password = try SecretSettingFile.read(file, section: broker, key: "password_file")
            }
            config.broker.sharedGroup = try broker.string("shared_group", example: "shared_group: aggregators")
            if let group = config.broker.sharedGroup, group.isEmpty || group.contains("/") || group.contains("+") || group.contains("#") {
                throw broker.error("shared_group", "a share group name has no '/', '+' or '#'", example: "shared_group: aggregators")
            }
            config.broker.reconnectMaximumDelay = try broker.duration("reconnect_max_delay", default: .seconds(5), minimum: .milliseconds(100),
                                                                      example: "reconnect_max_delay: 5s")
            if let tls = try broker.section("tls") {
                config.broker.caFile = try tls.string("ca_file", default: nil, example: "ca_file: /etc/fieldproof/ca.crt")
                config.broker.certificateFile = try tls.string("cert_file", example: "cert_file: /etc/fieldproof/aggregator.crt")
                config.broker.keyFile = try tls.string("key_file", example: "key_file: /etc/fieldproof/aggregator.key")
                try tls.finish()
            }
            try broker.finish()
        }

        if let store = try root.section("store") {
            switch try store.choice("kind", from: ["sqlite", "postgres"], default: "sqlite") {
            case "postgres":
                let url = try store.string("url", default: nil, example: "url: postgres://fieldproof@127.0.0.1:5432/fieldproof")
                guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                    throw store.error("url", "\"\(url)\" is not a postgres:// URL", example: "url: postgres://fieldproof@127.0.0.1:5432/fieldproof")
                }
                config.store = .postgres(url: url)
            default:
                config.store = .sqlite(path: try store.string("path", default: state + "/tallies.sqlite",
                                                             example: "path: /var/lib/fieldproof-aggregator/tallies.sqlite"))
            }
            try store.finish()
        }

        if let http = try root.section("http") {
            config.http.host = try http.string("host", default: "127.0.0.1", example: "host: 0.0.0.0")
            config.http.port = try http.int("port", default: 8080, in: 0...65_535, example: "port: 8080")
            config.http.operatorToken = try http.string("operator_token", example: "operator_token_file: /etc/fieldproof/operator-token")
            if let file = try http.string("operator_token_file", example: "operator_token_file: /etc/fieldproof/operator-token") {
                guard config.http.operatorToken == nil else { throw http.error("operator_token_file", "set either operator_token or operator_token_file, not both") }
                config.http.operatorToken = try SecretSettingFile.read(file, section: http, key: "operator_token_file")
            }
            if let token = config.http.operatorToken, token.count < 16 {
                throw http.error(config.contains(http, "operator_token") ? "operator_token" : "operator_token_file",
                                 "the operator token must be at least 16 characters", example: "operator_token_file: /etc/fieldproof/operator-token")
            }
            try http.finish()
        }

        if let epochs = try root.section("epochs") {
            config.epochLength = try epochs.duration("length", default: .seconds(3600), minimum: .seconds(60), example: "length: 1h")
            config.epochGrace = try epochs.duration("grace", default: .seconds(300), minimum: .seconds(0), example: "grace: 5m")
            try epochs.finish()
        }

        if let verification = try root.section("verification") {
            config.verification.workers = try verification.int("workers", default: 0, in: 0...256, example: "workers: 0")
            config.verification.queueLimit = try verification.int("queue", default: 10_000, in: 1...1_000_000, example: "queue: 10000")
            config.verification.maximumFutureSkew = try verification.duration("max_future_skew", default: .seconds(300),
                                                                              minimum: .seconds(0), example: "max_future_skew: 5m")
            try verification.finish()
        }

        if let pairing = try root.section("pairing") {
            config.pairing.maximumAttempts = try pairing.int("max_attempts", default: 5, in: 1...100, example: "max_attempts: 5")
            config.pairing.pinLength = try pairing.int("pin_length", default: 8, in: 6...10, example: "pin_length: 8")
            config.pairing.defaultExpiry = try pairing.duration("default_expiry", default: .seconds(24 * 3600), minimum: .seconds(60),
                                                                example: "default_expiry: 24h")
            config.pairing.maximumRequestAge = try pairing.duration("max_request_age", default: .seconds(600), minimum: .seconds(10))
            try pairing.finish()
        }
        if let log = try root.section("log") { config.log = try Log.parse(log) }
        try root.finish()
        return config
    }

    private func contains(_ section: ConfigSection, _ key: String) -> Bool { section.contains(key) }
}

/// A secret kept in a file of its own (`password_file`,
/// `operator_token_file`), without trailing whitespace.
enum SecretSettingFile {
    static func read(_ path: String, section: ConfigSection, key: String) throws(ConfigError) -> String {
        let text: String
        do { text = try FileIO.text(path, limit: 64 * 1024) } catch {
            throw section.error(key, "cannot read \(path): \(error.errno)")
        }
        var trimmed = Substring(text)
        while let last = trimmed.last, last == "\n" || last == "\r" || last == " " { trimmed.removeLast() }
        return String(trimmed)
    }
}
