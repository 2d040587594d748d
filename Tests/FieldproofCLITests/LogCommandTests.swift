import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import TransparencyLog
import Wire

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

    /// Proofs from the log a store wrote, checked offline: the inclusion
    /// proof by `fieldproof decode --proof`, the consistency proof against
    /// the roots of the same messages in commit order.
    @Test func inclusionAndConsistencyProofsOfTheStoredLogHold() async throws {
        let (printed, config) = try await verifierKey(origin: "aggregator.example/fieldproof")
        let logKey = printed.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let store = try SQLiteStore(path: directory + "/state/tallies.sqlite", calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let device = Curve25519.Signing.PrivateKey()
        let t0: Int64 = 1_795_557_600_000
        var tree = MerkleTree()
        var raws: [[UInt8]] = []
        for sequence in UInt64(1)...10 {
            let telemetry = Telemetry(serial: "dev-1", sequence: sequence, floor: 0, timestamp: UInt64(t0) + sequence, clockSynchronised: true,
                                      bootID: [UInt8](repeating: 2, count: 16), millisecondsSinceBoot: sequence,
                                      readings: [.init(sensor: "air", quantity: "temperature", value: 290, unit: "K")], statuses: [])
            let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
            _ = try await store.commit(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)),
                                                     receivedAt: t0 + 100))
            tree.append(raw)
            raws.append(raw)
        }
        let aggregator = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let inclusion = try await ProcessRunner.run(aggregator.path, ["log", "inclusion-proof", "dev-1", "4", "--config", config])
        #expect(inclusion.status == 0, "\(inclusion.output)")
        let proofFile = directory + "/dev-1-4.tlog-proof"
        try inclusion.output.write(toFile: proofFile, atomically: true, encoding: .utf8)
        let entryFile = directory + "/dev-1-4.cbor"
        try Data(raws[3]).write(to: URL(fileURLWithPath: entryFile))
        let checked = try await fieldproof(["decode", "--proof", proofFile, "--entry", entryFile, "--log-key", logKey])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("index 3, included"), "\(checked.output)")

        let consistency = try await ProcessRunner.run(aggregator.path, ["log", "consistency-proof", "3", "10", "--config", config])
        #expect(consistency.status == 0, "\(consistency.output)")
        let proof = consistency.output.split(separator: "\n").compactMap { MerkleHash(base64: $0) }
        #expect(MerkleProof.verifyConsistency(oldSize: 3, oldRoot: tree.root(size: 3)!, newSize: 10, newRoot: tree.root(size: 10)!, proof: proof))
        #expect(try await ProcessRunner.run(aggregator.path, ["log", "inclusion-proof", "dev-1", "11", "--config", config]).status == 1)
        #expect(try await ProcessRunner.run(aggregator.path, ["log", "consistency-proof", "3", "11", "--config", config]).status == 1)
    }
}
