import Crypto
@testable import fieldproof_witness
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport
import TransparencyLog

/// `fieldproof-witness serve` over HTTP, as a log reaches it: cosignatures
/// that verify under the key `verifier-key` prints, 409 with the size it
/// holds, and that size still held after `kill -9`.
@Suite struct WitnessServiceTests {
    static let origin = "fieldproof.example/log"
    let directory = try! TemporaryDirectory.make(prefix: "witness").path
    let logSigner = try! NoteSigner(name: WitnessServiceTests.origin, key: Curve25519.Signing.PrivateKey())

    func writeConfig(port: Int) throws -> String {
        let path = directory + "/witness.yaml"
        try """
            name: witness.example/w1
            state_directory: \(directory)/state
            http:
              port: \(port)
            logs:
              - origin: \(Self.origin)
                key: \(logSigner.verifier.verifierKey)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func post(_ port: Int, old: Int, proof: [MerkleHash], tree: MerkleTree, size: Int) async throws -> (status: Int, type: String, body: String) {
        let checkpoint = Checkpoint(origin: Self.origin, size: UInt64(size), root: tree.root(size: size)!)
        let body = (["old \(old)"] + proof.map(\.base64)).map { $0 + "\n" }.joined() + "\n" + (try SignedNote.sign(checkpoint.text, by: [logSigner]))
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/add-checkpoint")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
    }

    func start(_ config: String, port: Int) async throws -> ChildProcess {
        let binary = try #require(ProjectPaths.product("fieldproof-witness"))
        let process = try ChildProcess(binary.path, ["serve", "--config", config], outputFile: directory + "/witness.log")
        let deadline = ContinuousClock.now + .seconds(30)
        while !LoopbackNetwork.accepts(port: port), process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return process
    }

    @Test func itCosignsOverHTTPAndRemembersWhatItCosignedThroughAKill9() async throws {
        let port = try LoopbackNetwork.freePort()
        let config = try writeConfig(port: port)
        var tree = MerkleTree()
        for index in 0..<12 { tree.append(Array("entry \(index)".utf8)) }

        let binary = try #require(ProjectPaths.product("fieldproof-witness"))
        let printed = try await ProcessRunner.run(binary.path, ["verifier-key", "--config", config])
        #expect(printed.status == 0, "\(printed.output)")
        let parts = printed.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2)
        let material = try #require(parts.count == 3 ? Data(base64Encoded: String(parts[2])) : nil)
        #expect(parts.first == "witness.example/w1" && material.first == 0x04, "\(printed.output)")
        let witnessKey = try Curve25519.Signing.PublicKey(rawRepresentation: material.dropFirst())

        let witness = try await start(config, port: port)
        defer { _ = witness.terminate(signal: SIGKILL) }
        let first = try await post(port, old: 0, proof: [], tree: tree, size: 5)
        #expect(first.status == 200, "\(first.body)")
        let checkpoint5 = Checkpoint(origin: Self.origin, size: 5, root: tree.root(size: 5)!)
        #expect(Cosigner.verify(line: first.body, checkpoint: checkpoint5, name: "witness.example/w1", publicKey: witnessKey) != nil, "\(first.body)")
        let stale = try await post(port, old: 0, proof: [], tree: tree, size: 9)
        #expect(stale.status == 409 && stale.body == "5\n" && stale.type == "text/x.tlog.size", "\(stale)")

        #expect(await witness.stop(signal: SIGKILL))
        let again = try await start(config, port: port)
        defer { _ = again.terminate(signal: SIGKILL) }
        #expect(try await post(port, old: 0, proof: [], tree: tree, size: 9).body == "5\n", "the record survived kill -9")
        let grown = try await post(port, old: 5, proof: tree.consistencyProof(from: 5, to: 9)!, tree: tree, size: 9)
        #expect(grown.status == 200, "\(grown.body)")
        var forked = MerkleTree()
        for index in 0..<12 { forked.append(Array((index == 2 ? "forged" : "entry \(index)").utf8)) }
        #expect(try await post(port, old: 9, proof: forked.consistencyProof(from: 9, to: 12)!, tree: forked, size: 12).status == 422)
    }

    @Test func theExampleConfigurationParses() throws {
        let path = ProjectPaths.root.appendingPathComponent("config/witness.yaml").path
        let configuration = try WitnessConfiguration.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(configuration.name == "witness.example/w1" && configuration.port == 7380)
        #expect(configuration.logs["aggregator.example/fieldproof"]?.count == 1)
    }

    @Test func aBrokenConfigurationNamesTheFileAndLine() async throws {
        let path = directory + "/bad.yaml"
        try "name: witness.example/w1\nlogs:\n  - origin: x\n    key: not-a-key\n".write(toFile: path, atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-witness"))
        let result = try await ProcessRunner.run(binary.path, ["serve", "--config", path])
        #expect(result.status != 0)
        #expect(result.output.contains("bad.yaml:4:"), "\(result.output)")
    }
}
