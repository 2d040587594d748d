import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import TransparencyLog

/// `fieldproof-aggregator log verifier-key`: the aggregator's signing key as
/// the log's note key, under the configured origin (or one derived from the
/// key), in the form witnesses and Go's sumdb/note read.
@Suite struct LogCommandTests {
    let directory = try! TemporaryDirectory.make(prefix: "log-command").path

    func verifierKey(origin: String?) async throws -> (ProcessRunner.Result, String) {
        let config = directory + "/aggregator.yaml"
        try """
            state_directory: \(directory)/state
            log_level: warning
            \(origin.map { "log:\n  origin: \($0)" } ?? "")
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        return (try await ProcessRunner.run(binary.path, ["log", "verifier-key", "--config", config]), config)
    }

    @Test func itPrintsTheAggregatorKeyUnderTheLogsOrigin() async throws {
        let (result, _) = try await verifierKey(origin: "aggregator.example/fieldproof")
        #expect(result.status == 0, "\(result.output)")
        let verifier = try NoteVerifier(verifierKey: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(verifier.name == "aggregator.example/fieldproof")
        let seed = try #require(try SecretFile.read(directory + "/state/aggregator.key"))
        #expect(verifier.publicKey.rawRepresentation == (try Curve25519.Signing.PrivateKey(rawRepresentation: seed)).publicKey.rawRepresentation)
    }

    @Test func withoutAnOriginItIsDerivedFromTheKeyAndABadOneIsRefused() async throws {
        let (derived, _) = try await verifierKey(origin: nil)
        #expect(derived.status == 0, "\(derived.output)")
        #expect(derived.output.hasPrefix("fieldproof-aggregator/"), "\(derived.output)")
        let (bad, config) = try await verifierKey(origin: "\"has space\"")
        #expect(bad.status == 78, "\(bad.output)")
        #expect(bad.output.contains("\(config):4:"), "\(bad.output)")
    }
}
