import ArgumentParser
import TransparencyLog

/// The aggregator's transparency log (issue 16). For now its key: what a
/// witness or auditor is configured with.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The aggregator's transparency log.",
        subcommands: [VerifierKey.self])

    struct VerifierKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verifier-key",
            abstract: "Print the log's note verifier key (<origin>+<key id>+<base64 key>), as Go's sumdb/note and fieldproof-witness read it.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let context = try await AggregatorContext.load(options)
            print(try context.logSigner().verifier.verifierKey)
        }
    }
}

extension AggregatorContext {
    /// The log's origin: configured, or derived from the aggregator key's
    /// fingerprint, so two aggregators never share one by accident.
    func logOrigin() throws -> String {
        try configuration.log.origin ?? "fieldproof-aggregator/\(identity().fingerprint)"
    }

    /// The aggregator's signing key as the log's note key, named by the origin.
    func logSigner() throws -> NoteSigner {
        try NoteSigner(name: try logOrigin(), key: try signingKey())
    }
}
