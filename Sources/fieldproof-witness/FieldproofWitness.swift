import ArgumentParser
import ConfigFile
import Hummingbird
import LinuxService

/// A transparency-log witness (c2sp.org/tlog-witness): it cosigns a log's
/// checkpoints only when each extends the last one it cosigned, so a log
/// that rewrites or truncates its history is caught by everyone who checks
/// for its cosignature.
@main
struct FieldproofWitness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldproof-witness",
        abstract: "Cosigns the checkpoints of transparency logs that only grow.",
        discussion: """
            Examples:
              fieldproof-witness serve --config /etc/fieldproof/witness.yaml
              fieldproof-witness verifier-key --config /etc/fieldproof/witness.yaml
            """,
        subcommands: [Serve.self, VerifierKey.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The witness's configuration file.")
        var config = "/etc/fieldproof/witness.yaml"

        func load() throws -> WitnessConfiguration {
            guard let bytes = try FileIO.readFile(config, limit: 1 << 20) else {
                throw ValidationError("\(config) does not exist; the example is config/witness.yaml")
            }
            do {
                return try WitnessConfiguration.parse(String(decoding: bytes, as: UTF8.self), file: config)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer add-checkpoint requests over HTTP.")
        @OptionGroup var options: Options

        func run() async throws {
            let configuration = try options.load()
            let server = try WitnessServer(configuration: configuration)
            print("fieldproof-witness \(server.cosigner.name): witnessing \(configuration.logs.keys.sorted().joined(separator: ", "))")
            let application = server.application { port in
                print("listening on http://\(configuration.host):\(port)/add-checkpoint")
            }
            try await application.runService()
        }
    }

    struct VerifierKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verifier-key",
            abstract: "Print the cosigner's verifier key (name+id+base64 of type 0x04 and the key) for the log's configuration.")
        @OptionGroup var options: Options

        func run() async throws {
            let server = try WitnessServer(configuration: try options.load())
            print(server.cosigner.verifierKey)
        }
    }
}
