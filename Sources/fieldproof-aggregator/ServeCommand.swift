import Aggregator
import AggregatorStore
import ArgumentParser
import Crypto
import Logging

/// `serve`: the service. Subscribes to telemetry and pairing requests,
/// verifies, tallies, acknowledges, and serves the HTTP API and dashboard
/// until SIGTERM or SIGINT (then it stops taking messages, finishes those
/// in flight and exits 0).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the aggregator service.",
        discussion: "Example: fieldproof-aggregator serve --config /etc/fieldproof/aggregator.yaml"
    )

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let context = try await AggregatorContext.load(options)
        let level = Logger.Level(rawValue: context.configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "fieldproof-aggregator")
        logger.logLevel = level
        try await serve(context.store, configuration: context.configuration, key: try context.signingKey(), logger: logger)
    }

    /// The service over the configured store's concrete type.
    private func serve<Store: AggregatorDataStore>(_ store: Store, configuration: AggregatorConfiguration, key: Curve25519.Signing.PrivateKey,
                                                   logger: Logger) async throws {
        let service: AggregatorService<Store>
        do {
            service = try AggregatorService(configuration: configuration, store: store, key: key, logger: logger)
        } catch {
            Output.error("cannot start: \(error)")
            throw ExitCode(1)
        }
        do {
            try await service.run()
        } catch {
            Output.error("stopped: \(error)")
            throw ExitCode(1)
        }
    }
}
