import ConfigFile
import TransparencyLog

/// The witness's configuration file: its name, where its key and its
/// record of cosigned checkpoints live, where it listens, and the logs it
/// witnesses (origin and note verifier key of each).
///
///     name: witness.example/w1
///     state_directory: /var/lib/fieldproof-witness
///     http:
///       host: 0.0.0.0
///       port: 7380
///     logs:
///       - origin: aggregator.example/fieldproof
///         key: aggregator.example/fieldproof+1a2b3c4d+AW7r...
struct WitnessConfiguration {
    var name: String
    var stateDirectory: String
    var host = "127.0.0.1"
    var port = 7380
    var logs: [String: [NoteVerifier]] = [:]

    var keyFile: String { stateDirectory + "/witness.key" }
    var stateFile: String { stateDirectory + "/cosigned.json" }

    static func parse(_ text: String, file: String) throws(ConfigError) -> WitnessConfiguration {
        let root = try ConfigSection.root(text: text, file: file)
        guard let name = try root.string("name", example: "name: witness.example/w1") else {
            throw root.error("name", "the witness needs a name (its cosignatures carry it)", example: "name: witness.example/w1")
        }
        var config = WitnessConfiguration(
            name: name,
            stateDirectory: try root.string("state_directory", default: "/var/lib/fieldproof-witness",
                                            example: "state_directory: /var/lib/fieldproof-witness"))
        if let http = try root.section("http") {
            config.host = try http.string("host", default: config.host, example: "host: 0.0.0.0")
            config.port = try http.int("port", default: config.port, in: 0...65535, example: "port: 7380")
            try http.finish()
        }
        for log in try root.sections("logs") {
            guard let origin = try log.string("origin", example: "origin: aggregator.example/fieldproof"),
                  let keyText = try log.string("key", example: "key: aggregator.example/fieldproof+1a2b3c4d+AW7r...") else {
                throw log.error("origin", "each log needs its origin and its note verifier key (`fieldproof-aggregator log verifier-key` prints it)")
            }
            let key: NoteVerifier
            do { key = try NoteVerifier(verifierKey: keyText) } catch {
                throw log.error("key", "\(error)", example: "key: aggregator.example/fieldproof+1a2b3c4d+AW7r...")
            }
            config.logs[origin, default: []].append(key)
            try log.finish()
        }
        guard !config.logs.isEmpty else {
            throw root.error("logs", "a witness with no logs cosigns nothing", example: "logs:\n  - origin: aggregator.example/fieldproof\n    key: ...")
        }
        try root.finish()
        return config
    }
}
