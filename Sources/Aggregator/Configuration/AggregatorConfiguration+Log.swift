import ConfigFile
import TransparencyLog

/// The `log:` section: the transparency log's origin, how often it is
/// checkpointed, and the witnesses that cosign its checkpoints.
extension AggregatorConfiguration.Log {
    static let witnessExample = "witnesses:\n    - url: http://witness.example:7380\n      key: witness.example/w1+1a2b3c4d+BAbc..."

    static func parse(_ log: ConfigSection) throws(ConfigError) -> Self {
        var config = Self()
        if let origin = try log.string("origin", example: "origin: aggregator.example/fieldproof") {
            // C2SP: non-empty, no spaces or '+' (it is a note key name too).
            guard !origin.isEmpty, !origin.contains(where: { $0 == "+" || $0.isWhitespace }) else {
                throw log.error("origin", "a log origin is one word without spaces or '+', by custom a URL without its scheme",
                                example: "origin: aggregator.example/fieldproof")
            }
            config.origin = origin
        }
        config.checkpointInterval = try log.duration("checkpoint_interval", default: .seconds(10), minimum: .milliseconds(100),
                                                     example: "checkpoint_interval: 10s")
        for entry in try log.sections("witnesses") {
            config.witnesses.append(try witness(entry, after: config.witnesses))
        }
        let count = config.witnesses.count
        if count == 0, log.contains("witness_quorum") {
            throw log.error("witness_quorum", "a quorum needs witnesses: list them under log.witnesses", example: witnessExample)
        }
        // Without a quorum set, every configured witness must cosign.
        config.witnessQuorum = try log.int("witness_quorum", example: "witness_quorum: \(count)") ?? count
        if count > 0, !(1...count).contains(config.witnessQuorum) {
            throw log.error("witness_quorum", "\(config.witnessQuorum) cosignatures cannot be had from the \(count) witness(es) listed; "
                                + "set 1 to \(count), or leave it out to require all of them", example: "witness_quorum: \(count)")
        }
        config.witnessTimeout = try log.duration("witness_timeout", default: .seconds(5), minimum: .milliseconds(100),
                                                 example: "witness_timeout: 5s")
        try log.finish()
        return config
    }

    private static func witness(_ entry: ConfigSection, after earlier: [WitnessEndpoint]) throws(ConfigError) -> WitnessEndpoint {
        let urlExample = "url: http://witness.example:7380"
        let keyExample = "key: witness.example/w1+1a2b3c4d+BAbc... (what `fieldproof-witness verifier-key` prints)"
        let urlText = try entry.string("url", example: urlExample)
        let keyText = try entry.string("key", example: keyExample)
        guard let urlText, let key = keyText else {
            try entry.finish() // a misspelt key says so first
            throw entry.error(urlText == nil ? "url" : "key", "each witness needs its url and its cosigner key", example: witnessExample)
        }
        guard let url = WitnessEndpoint.normalised(url: urlText) else {
            throw entry.error("url", "\"\(urlText)\" is not an http:// or https:// URL without query (add-checkpoint is POSTed to <url>/add-checkpoint)",
                              example: urlExample)
        }
        let trusted: TlogProof.TrustedWitness
        do { trusted = try TlogProof.TrustedWitness(verifierKey: key) } catch {
            throw entry.error("key", "not a cosigner verifier key (name+hexid+base64 of 0x04 and the key)", example: keyExample)
        }
        if earlier.contains(where: { $0.url == url }) {
            throw entry.error("url", "\(url) is listed twice; list each witness once")
        }
        // Two entries with one key are one witness: they would count twice toward the quorum.
        if earlier.contains(where: { $0.trusted?.name == trusted.name }) {
            throw entry.error("key", "a witness named \(trusted.name) is listed already; list each witness once")
        }
        try entry.finish()
        return WitnessEndpoint(url: url, key: key)
    }
}
