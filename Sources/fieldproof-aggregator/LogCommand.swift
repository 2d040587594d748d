import Aggregator
import AggregatorStore
import ArgumentParser
import Identity
import TransparencyLog

/// The aggregator's transparency log (issue 16). For now its key: what a
/// witness or auditor is configured with.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The aggregator's transparency log.",
        subcommands: [VerifierKey.self, InclusionProof.self, ConsistencyProof.self])

    struct InclusionProof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inclusion-proof",
            abstract: "Prove a message is in the log: a c2sp.org/tlog-proof (checkpoint, index, path), or JSON.",
            discussion: "Check it offline with: fieldproof decode --proof FILE --entry MESSAGE --log-key KEY")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The device's serial.") var serial: String
        @Argument(help: "The message's sequence number.") var sequence: UInt64
        @Flag(help: "Print JSON instead.") var json = false

        func run() async throws {
            let context = try await AggregatorContext.load(options)
            let signer = try context.logSigner()
            guard let proof = try await LogPublisher(store: context.store, signer: signer).proof(serial: serial, sequence: sequence),
                  let checkpoint = try? Checkpoint(text: try SignedNote.open(Array(proof.checkpoint.utf8), verifiers: [signer.verifier]).text)
            else {
                Output.error("\(serial)/\(sequence) is not in the log")
                throw ExitCode(1)
            }
            if json {
                try Output.json(["index": String(proof.index), "treeSize": String(checkpoint.size), "root": checkpoint.root.base64,
                                 "proof": proof.inclusion.map(\.base64).joined(separator: " "), "checkpoint": proof.checkpoint])
            } else {
                print(proof.text, terminator: "")
            }
        }
    }

    struct ConsistencyProof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consistency-proof",
            abstract: "Prove the log of NEW entries extends the one of OLD entries: one base64 hash per line (RFC 6962), or JSON.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The older tree size.") var old: UInt64
        @Argument(help: "The newer tree size (at most the log's size).") var new: UInt64
        @Flag(help: "Print JSON instead.") var json = false

        func run() async throws {
            let context = try await AggregatorContext.load(options)
            let head = try await context.store.logHead()
            guard old <= new, new <= head.size else {
                Output.error("sizes must satisfy OLD <= NEW <= \(head.size) (the log's size)")
                throw ExitCode(1)
            }
            let proofs = context.store.logProofs(size: new)
            guard let proof = try await proofs.consistencyProof(from: old) else { throw ExitCode(1) }
            if json {
                try Output.json(["old": String(old), "new": String(new), "newRoot": try await proofs.root().base64,
                                 "proof": proof.map(\.base64).joined(separator: " ")])
            } else {
                for hash in proof { print(hash.base64) }
            }
        }
    }

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
