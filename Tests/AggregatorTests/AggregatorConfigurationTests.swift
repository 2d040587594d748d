import Aggregator
import ConfigFile
import Crypto
import Foundation
import Testing
import TestSupport
import TransparencyLog

@Suite struct AggregatorConfigurationTests {
    @Test func theCommentedExampleLoads() throws {
        let path = ProjectPaths.root.appendingPathComponent("config/aggregator.yaml").path
        let config = try AggregatorConfiguration.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(config.store == .sqlite(path: "/var/lib/fieldproof-aggregator/tallies.sqlite"))
        #expect(config.epochLength == .seconds(3600) && config.epochGrace == .seconds(300))
        #expect(config.pairing.maximumAttempts == 5)
        #expect(config.http.operatorToken == nil)
        #expect(config.broker.sharedGroup == nil)
        #expect(config.broker.reconnectMaximumDelay == .seconds(5))
    }

    @Test func postgresAndSharedSubscription() throws {
        let config = try AggregatorConfiguration.parse("""
            broker:
              shared_group: aggregators
              reconnect_max_delay: 1500ms
            store:
              kind: postgres
              url: postgres://fieldproof@127.0.0.1:5432/fieldproof
            """, file: "a.yaml")
        #expect(config.store == .postgres(url: "postgres://fieldproof@127.0.0.1:5432/fieldproof"))
        #expect(config.broker.sharedGroup == "aggregators")
        #expect(config.broker.reconnectMaximumDelay == .milliseconds(1500))
    }

    @Test func errorsAreLocatedWithAnExample() {
        let cases: [(String, String)] = [
            ("store:\n  kind: mysql\n", "a.yaml:2:9: store.kind: \"mysql\" is not one of sqlite, postgres; for example: kind: sqlite"),
            ("store:\n  kind: postgres\n  url: localhost\n",
             "a.yaml:3:8: store.url: \"localhost\" is not a postgres:// URL; for example: url: postgres://fieldproof@127.0.0.1:5432/fieldproof"),
            ("http:\n  operator_token: short\n",
             "a.yaml:2:19: http.operator_token: the operator token must be at least 16 characters; for example: operator_token_file: /etc/fieldproof/operator-token"),
            ("broker:\n  reconnect_max_delay: 10ms\n",
             "a.yaml:2:24: broker.reconnect_max_delay: 10ms is shorter than the minimum of 100ms; for example: reconnect_max_delay: 5s"),
            ("broker:\n  shared_group: a/b\n", "a.yaml:2:17: broker.shared_group: a share group name has no '/', '+' or '#'; for example: shared_group: aggregators"),
            ("epochs:\n  length: 10s\n", "a.yaml:2:11: epochs.length: 10s is shorter than the minimum of 1m; for example: length: 1h"),
        ]
        expectRefusals(cases)
    }

    static let w1 = try! Cosigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey()).verifierKey
    static let w2 = try! Cosigner(name: "witness.example/w2", key: Curve25519.Signing.PrivateKey()).verifierKey

    @Test func witnessesDefaultToAllOfThemCosigningWithinFiveSeconds() throws {
        let text = """
            log:
              witnesses:
                - url: http://127.0.0.1:7380/
                  key: \(Self.w1)
                - url: https://w2.example/witness
                  key: \(Self.w2)
            """
        let config = try AggregatorConfiguration.parse(text, file: "a.yaml")
        #expect(config.log.witnesses == [WitnessEndpoint(url: "http://127.0.0.1:7380", key: Self.w1),
                                         WitnessEndpoint(url: "https://w2.example/witness", key: Self.w2)])
        #expect(config.log.witnesses[1].addCheckpointURL == "https://w2.example/witness/add-checkpoint")
        #expect(config.log.witnessQuorum == 2 && config.log.witnessTimeout == .seconds(5))
        let one = try AggregatorConfiguration.parse(text + "\n  witness_quorum: 1\n  witness_timeout: 2s\n", file: "a.yaml")
        #expect(one.log.witnessQuorum == 1 && one.log.witnessTimeout == .seconds(2))
        #expect(try AggregatorConfiguration.parse("log:\n  checkpoint_interval: 5s\n", file: "a.yaml").log.witnesses.isEmpty)
    }

    @Test func aWrongWitnessSettingNamesTheLineAndTheFix() {
        let two = "log:\n  witnesses:\n    - url: http://a:1\n      key: \(Self.w1)\n    - url: http://b:1\n      key: \(Self.w2)\n"
        let cases: [(String, String)] = [
            (two + "  witness_quorum: 3\n",
             "a.yaml:7:19: log.witness_quorum: 3 cosignatures cannot be had from the 2 witness(es) listed; set 1 to 2, "
                + "or leave it out to require all of them; for example: witness_quorum: 2"),
            (two + "  witness_quorum: 0\n", "a.yaml:7:19: log.witness_quorum: 0 cosignatures cannot be had from the 2 witness(es) listed; "
                + "set 1 to 2, or leave it out to require all of them; for example: witness_quorum: 2"),
            ("log:\n  witness_quorum: 1\n", "a.yaml:2:19: log.witness_quorum: a quorum needs witnesses: list them under log.witnesses; "
                + "for example: witnesses:\n    - url: http://witness.example:7380\n      key: witness.example/w1+1a2b3c4d+BAbc..."),
            ("log:\n  witnesses:\n    - url: witness.example:7380\n      key: \(Self.w1)\n",
             "a.yaml:3:12: log.witnesses[0].url: \"witness.example:7380\" is not an http:// or https:// URL without query "
                + "(add-checkpoint is POSTed to <url>/add-checkpoint); for example: url: http://witness.example:7380"),
            ("log:\n  witnesses:\n    - url: http://a:1\n      key: witness.example/w1+00000000+AAAA\n",
             "a.yaml:4:12: log.witnesses[0].key: not a cosigner verifier key (name+hexid+base64 of 0x04 and the key); "
                + "for example: key: witness.example/w1+1a2b3c4d+BAbc... (what `fieldproof-witness verifier-key` prints)"),
            ("log:\n  witnesses:\n    - url: http://a:1\n      key: \(Self.w1)\n    - url: http://b:1\n      key: \(Self.w1)\n",
             "a.yaml:6:12: log.witnesses[1].key: a witness named witness.example/w1 is listed already; list each witness once"),
            ("log:\n  witnesses:\n    - url: http://a:1\n      kee: \(Self.w1)\n",
             "a.yaml:4:7: log.witnesses[0].kee: unknown setting; did you mean `key`?"),
        ]
        expectRefusals(cases)
    }

    /// Each text is refused with exactly the expected error line.
    func expectRefusals(_ cases: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) {
        for (text, expected) in cases {
            do {
                _ = try AggregatorConfiguration.parse(text, file: "a.yaml")
                Issue.record("expected an error for \(text)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.description == expected, sourceLocation: sourceLocation)
            }
        }
    }
}
