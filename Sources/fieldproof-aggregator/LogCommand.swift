import Aggregator
import ArgumentParser
import Identity
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
    /// The aggregator's signing key as the log's note key.
    func logSigner() throws -> NoteSigner {
        try LogIdentity.signer(configuration: configuration, identity: identity())
    }
}

enum LogIdentity {
    /// The log's note key: the aggregator's signing key, named by the
    /// configured origin or, without one, by the key's fingerprint, so two
    /// aggregators never share an origin by accident.
    static func signer(configuration: AggregatorConfiguration, identity: AggregatorIdentity) throws -> NoteSigner {
        try NoteSigner(name: configuration.log.origin ?? "fieldproof-aggregator/\(identity.fingerprint)", key: identity.signingKey)
    }
}
