import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import TestSupport

/// The two stores the store suites run against: a SQLite file, or a real
/// PostgreSQL server started for the test (as the postgres user when root).
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite, postgres

    /// A fresh store of this kind; `path` is the SQLite file (nil for
    /// PostgreSQL); `stop` closes the store and stops its server.
    func open(calendar: EpochCalendar, prefix: String) async throws -> (store: any AggregatorDataStore, path: String?, stop: () -> Void) {
        switch self {
        case .sqlite:
            let path = try TemporaryDirectory.make(prefix: prefix).appendingPathComponent("aggregator.sqlite").path
            return (try SQLiteStore(path: path, calendar: calendar), path, {})
        case .postgres:
            let server = try await PostgresServer.started()
            let store = try await PostgresStore(url: server.url, calendar: calendar)
            return (store, nil, { store.close(); server.stop() })
        }
    }
}

/// The aggregator key the store suites sign key events with.
enum TestAggregator {
    static let identity = try! AggregatorIdentity(seed: Array(repeating: 7, count: 32))
    static var logKey: Curve25519.Signing.PrivateKey { identity.signingKey }
}
