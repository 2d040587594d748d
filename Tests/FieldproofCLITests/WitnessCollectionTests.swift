import Aggregator
import AggregatorStore
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
import TransparencyLog
import Wire

/// The real `fieldproof-aggregator serve` collecting cosignatures from two
/// configured witnesses, a real `fieldproof-witness serve` and a port
/// nothing listens on: with a quorum of one the cosigned checkpoint is
/// served, retained and opened by Go's sumdb/note with the witnesses'
/// keys; with a quorum of two nothing is served as cosigned and the down
/// witness shows in the log's state and the metrics.
@Suite(.serialized) struct WitnessCollectionTests {
    static let origin = "aggregator.example/fieldproof"
    static let entries = 5
    let directory = try! TemporaryDirectory.make(prefix: "witness-collection").path
    /// A witness nobody runs: its key is configured, its port is closed.
    let absentKey = try! Cosigner(name: "witness.example/absent", key: Curve25519.Signing.PrivateKey()).verifierKey

    var aggregatorConfig: String { directory + "/aggregator.yaml" }

    /// The aggregator's log key (made by `log verifier-key`), with a few
    /// messages already in its store's log.
    func prepareLog() async throws -> String {
        try "state_directory: \(directory)/aggregator\nlog:\n  origin: \(Self.origin)\n"
            .write(toFile: aggregatorConfig, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let printed = try await ProcessRunner.run(binary.path, ["log", "verifier-key", "--config", aggregatorConfig])
        #expect(printed.status == 0, "\(printed.output)")
        let store = try SQLiteStore(path: directory + "/aggregator/tallies.sqlite", calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let device = Curve25519.Signing.PrivateKey()
        // Now, not a fixed past time: an epoch the aggregator could seal at start would add its summary to the log.
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        for sequence in UInt64(1)...UInt64(Self.entries) {
            let telemetry = Telemetry(serial: "dev-1", sequence: sequence, floor: 0, timestamp: now + sequence, clockSynchronised: true,
                                      bootID: [UInt8](repeating: 2, count: 16), millisecondsSinceBoot: sequence, readings: [], statuses: [])
            let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
            _ = try await store.commit(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)),
                                                     receivedAt: Int64(now) + 100))
        }
        return printed.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `fieldproof-witness serve` witnessing the log, and its cosigner key.
    func startWitness(logKey: String) async throws -> (process: ChildProcess, url: String, key: String) {
        let port = try LoopbackNetwork.freePort()
        let config = directory + "/witness.yaml"
        try """
            name: witness.example/w1
            state_directory: \(directory)/witness
            http:
              port: \(port)
            logs:
              - origin: \(Self.origin)
                key: \(logKey)
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-witness"))
        let key = try await ProcessRunner.run(binary.path, ["verifier-key", "--config", config])
        #expect(key.status == 0, "\(key.output)")
        let process = try ChildProcess(binary.path, ["serve", "--config", config], outputFile: directory + "/witness.log")
        _ = try await waitUntil(seconds: 30) { LoopbackNetwork.accepts(port: port) }
        return (process, "http://127.0.0.1:\(port)", key.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts the aggregator with `witnesses` and returns it with its HTTP port.
    func serve(brokerPort: Int, witnesses: [(url: String, key: String)], quorum: Int?) async throws -> (ChildProcess, Int) {
        let httpPort = try LoopbackNetwork.freePort()
        try """
            state_directory: \(directory)/aggregator
            log_level: warning
            broker:
              port: \(brokerPort)
            http:
              port: \(httpPort)
            log:
              origin: \(Self.origin)
              checkpoint_interval: 200ms
              witness_timeout: 2s
            \(quorum.map { "  witness_quorum: \($0)" } ?? "")
              witnesses:
            \(witnesses.map { "    - url: \($0.url)\n      key: \($0.key)" }.joined(separator: "\n"))
            """.write(toFile: aggregatorConfig, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let process = try ChildProcess(binary.path, ["serve", "--config", aggregatorConfig], outputFile: directory + "/aggregator.log")
        _ = try await waitUntil(seconds: 30) { LoopbackNetwork.accepts(port: httpPort) || !process.isRunning }
        return (process, httpPort)
    }

    func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func logStatus(_ port: Int) async throws -> TransparencyLogStatus {
        try JSONDecoder().decode(TransparencyLogStatus.self, from: Data(try await get(port, "/api/v1/log").body.utf8))
    }

    /// The value of the series `fieldproof_witness_requests_total` of `url` and `outcome`.
    func requests(_ metrics: String, url: String, outcome: String) -> Double? {
        metrics.split(separator: "\n").first {
            $0.hasPrefix("fieldproof_witness_requests_total{") && $0.contains("witness=\"\(url)\"") && $0.contains("outcome=\"\(outcome)\"")
        }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// A broker, the log with its entries, the witness and a port nothing
    /// listens on, and the aggregator configured with both.
    struct Running {
        let broker: MosquittoBroker
        let logKey: String
        let witness: (process: ChildProcess, url: String, key: String)
        let absent: String
        let aggregator: ChildProcess
        let port: Int

        func stop() {
            _ = aggregator.terminate()
            _ = witness.process.terminate()
            broker.stop()
        }
    }

    func start(quorum: Int?) async throws -> Running {
        let broker = try MosquittoBroker()
        do {
            let logKey = try await prepareLog()
            let witness = try await startWitness(logKey: logKey)
            do {
                let absent = "http://127.0.0.1:\(try LoopbackNetwork.freePort())"
                let (aggregator, port) = try await serve(brokerPort: broker.port, witnesses: [(witness.url, witness.key), (absent, absentKey)],
                                                         quorum: quorum)
                return Running(broker: broker, logKey: logKey, witness: witness, absent: absent, aggregator: aggregator, port: port)
            } catch {
                _ = witness.process.terminate()
                throw error
            }
        } catch {
            broker.stop()
            throw error
        }
    }

    var aggregatorLog: String { (try? String(contentsOfFile: directory + "/aggregator.log", encoding: .utf8)) ?? "" }

    @Test func withOneOfTwoWitnessesDownAQuorumOfOneCosignsAndGoOpensIt() async throws {
        let running = try await start(quorum: 1)
        defer { running.stop() }
        let (broker, logKey, witness, absent, port) = (running.broker, running.logKey, running.witness, running.absent, running.port)

        #expect(try await waitUntil(seconds: 30) { try await get(port, "/log/checkpoint").status == 200 }, "\(aggregatorLog)")
        let served = try await get(port, "/log/checkpoint").body
        let log = try NoteVerifier(verifierKey: logKey)
        let store = try SQLiteStore(path: directory + "/aggregator/tallies.sqlite", calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let proof = try #require(try await store.logProofs(size: UInt64(Self.entries)).inclusionProof(index: 0))
        let leaf = MerkleHash.leaf(try #require(try await store.logEntries(from: 0, count: 1).first))
        let verified = try TlogProof(index: 0, inclusion: proof, checkpoint: served)
            .verify(leaf: leaf, origin: Self.origin, log: [log], witnesses: [try .init(verifierKey: witness.key), try .init(verifierKey: absentKey)],
                    quorum: 1)
        #expect(verified.witnesses == ["witness.example/w1"] && verified.checkpoint.size == UInt64(Self.entries))

        // An implementation nobody here wrote: Go's note.Open with the log's and the witnesses' keys.
        if GoTlogCheck.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil {
            let go = try await GoTlogCheck.run(["url": "http://127.0.0.1:\(port)/log", "verifierKey": logKey,
                                                "witnessKeys": [witness.key, absentKey], "witnessQuorum": 1])
            #expect(go.status == 0 && go.output.contains("cosigned by 1 witness(es) [witness.example/w1]"), "\(go.output)")
            let two = try await GoTlogCheck.run(["url": "http://127.0.0.1:\(port)/log", "verifierKey": logKey,
                                                 "witnessKeys": [witness.key, absentKey], "witnessQuorum": 2])
            #expect(two.status == 1, "a quorum of two is not there: \(two.output)")
        }

        #expect(try await broker.retainedMessage(topic: Topics.logCheckpoint).map { String(decoding: $0, as: UTF8.self) } == served,
                "the retained checkpoint is the cosigned one")
        let status = try await logStatus(port)
        #expect(status.size == UInt64(Self.entries) && status.cosignedSize == UInt64(Self.entries) && status.quorum == 1)
        #expect(status.witnesses.map(\.url) == [witness.url, absent])
        #expect(status.witnesses[0].cosignedSize == UInt64(Self.entries) && status.witnesses[0].lastError == nil)
        #expect(status.witnesses[1].cosignedSize == nil && status.witnesses[1].lastError != nil, "\(status.witnesses[1])")
        let metrics = try await get(port, "/metrics").body
        #expect(requests(metrics, url: absent, outcome: "unreachable").map { $0 >= 1 } == true, "\(metrics)")
        #expect(requests(metrics, url: witness.url, outcome: "cosigned") == 1, "cosigned once, then not asked again")
        #expect(aggregatorLog.contains("witness did not cosign the checkpoint") && aggregatorLog.contains(absent), "\(aggregatorLog)")
        let page = try await get(port, "/").body
        #expect(page.contains("cosigned checkpoint of \(Self.entries) entries") && page.contains(absent))
    }

    @Test func withAllOfTwoRequiredAndOneDownNothingIsServedAsCosigned() async throws {
        // No witness_quorum: all configured witnesses are required.
        let running = try await start(quorum: nil)
        defer { running.stop() }
        let (broker, logKey, absent, port) = (running.broker, running.logKey, running.absent, running.port)

        #expect(try await waitUntil(seconds: 30) {
            guard let status = try? await logStatus(port) else { return false }
            return status.witnesses.first?.cosignedSize == UInt64(Self.entries) && status.witnesses.last?.lastError != nil
        }, "\(aggregatorLog)")
        let status = try await logStatus(port)
        #expect(status.quorum == 2 && status.cosignedSize == nil)
        let checkpoint = try await get(port, "/log/checkpoint")
        #expect(checkpoint.status == 503 && checkpoint.body.contains("witness quorum"), "\(checkpoint)")
        let latest = try await get(port, "/log/latest-checkpoint")
        let opened = try SignedNote.open(Array(latest.body.utf8), verifiers: [try NoteVerifier(verifierKey: logKey)])
        #expect(try Checkpoint(text: opened.text).size == UInt64(Self.entries), "the log's own checkpoint is still there")
        let metrics = try await get(port, "/metrics").body
        #expect(requests(metrics, url: absent, outcome: "unreachable").map { $0 >= 1 } == true, "\(metrics)")
        #expect(try await get(port, "/").body.contains("no checkpoint has reached the witness quorum (2 of 2) yet"))
        #expect(try await broker.retainedMessage(topic: Topics.logCheckpoint) == nil, "nothing published without the quorum")
    }
}
