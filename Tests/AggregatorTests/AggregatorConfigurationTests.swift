import Aggregator
import ConfigFile
import Foundation
import Testing
import TestSupport

@Suite struct AggregatorConfigurationTests {
    @Test func theCommentedExampleLoads() throws {
        let path = ProjectPaths.root.appendingPathComponent("config/aggregator.yaml").path
        let config = try AggregatorConfiguration.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(config.store == .sqlite(path: "/var/lib/fieldproof-aggregator/tallies.sqlite"))
        #expect(config.epochLength == .seconds(3600) && config.epochGrace == .seconds(300))
        #expect(config.pairing.maximumAttempts == 5)
        #expect(config.http.operatorToken == nil)
        #expect(config.broker.sharedGroup == nil)
    }

    @Test func postgresAndSharedSubscription() throws {
        let config = try AggregatorConfiguration.parse("""
            broker:
              shared_group: aggregators
            store:
              kind: postgres
              url: postgres://fieldproof@127.0.0.1:5432/fieldproof
            """, file: "a.yaml")
        #expect(config.store == .postgres(url: "postgres://fieldproof@127.0.0.1:5432/fieldproof"))
        #expect(config.broker.sharedGroup == "aggregators")
    }

    @Test func errorsAreLocatedWithAnExample() {
        let cases: [(String, String)] = [
            ("store:\n  kind: mysql\n", "a.yaml:2:9: store.kind: \"mysql\" is not one of sqlite, postgres; for example: kind: sqlite"),
            ("store:\n  kind: postgres\n  url: localhost\n",
             "a.yaml:3:8: store.url: \"localhost\" is not a postgres:// URL; for example: url: postgres://fieldproof@127.0.0.1:5432/fieldproof"),
            ("http:\n  operator_token: short\n",
             "a.yaml:2:19: http.operator_token: the operator token must be at least 16 characters; for example: operator_token_file: /etc/fieldproof/operator-token"),
            ("broker:\n  shared_group: a/b\n", "a.yaml:2:17: broker.shared_group: a share group name has no '/', '+' or '#'; for example: shared_group: aggregators"),
            ("epochs:\n  length: 10s\n", "a.yaml:2:11: epochs.length: 10s is shorter than the minimum of 1m; for example: length: 1h"),
        ]
        for (text, expected) in cases {
            do {
                _ = try AggregatorConfiguration.parse(text, file: "a.yaml")
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.description == expected)
            }
        }
    }
}
