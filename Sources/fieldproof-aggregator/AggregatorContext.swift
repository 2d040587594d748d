import Aggregator
import AggregatorStore
import ArgumentParser
import ConfigFile
import Crypto
import Foundation
import Identity
import LinuxService

/// What every command needs: the checked configuration, the store and
/// (for `serve` and `enroll`) the aggregator's signing key.
struct AggregatorContext {
    let configuration: AggregatorConfiguration
    let store: any AggregatorDataStore

    /// Loads and checks the configuration; an error is printed with file,
    /// line, column and fix, and the exit status is 78 (EX_CONFIG).
    static func load(_ options: ConfigOption) async throws -> AggregatorContext {
        let configuration: AggregatorConfiguration
        do {
            guard let text = try? String(contentsOfFile: options.config, encoding: .utf8) else {
                throw ValidationError("cannot read \(options.config): pass --config with the aggregator's configuration file (example: config/aggregator.yaml)")
            }
            configuration = try AggregatorConfiguration.parse(text, file: options.config)
        } catch let error as ConfigError {
            Output.error("\(error)")
            throw ExitCode(ConfigError.exitCode)
        }
        do {
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let calendar = EpochCalendar(length: configuration.epochLength, grace: configuration.epochGrace)
            switch configuration.store {
            case let .sqlite(path):
                return AggregatorContext(configuration: configuration, store: try SQLiteStore(path: path, calendar: calendar))
            case let .postgres(url):
                return AggregatorContext(configuration: configuration, store: try await PostgresStore(url: url, calendar: calendar))
            }
        } catch {
            Output.error("cannot open the store (\(configuration.store)): \(error)")
            throw ExitCode(1)
        }
    }

    /// The aggregator's Ed25519 key: `signing_key_file` (default
    /// `aggregator.key` in the state directory; 32 random bytes, mode 0600),
    /// made on first use. Devices pin its public key when they pair.
    func signingKey() throws -> Curve25519.Signing.PrivateKey {
        try identity().signingKey
    }

    /// Both of the aggregator's keys (signing, and the pairing key devices
    /// seal their PIN to) from that one file.
    func identity() throws -> AggregatorIdentity {
        try AggregatorIdentity(seed: DeviceSecret.loadOrCreate(at: configuration.signingKeyFile).bytes)
    }
}

enum Output {
    static func line(_ text: String) {
        print(text)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("fieldproof-aggregator: " + text + "\n").utf8))
    }

    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
