import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import TestSupport
import Wire

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

extension StoredMessage {
    /// One signed Telemetry with a single temperature reading, as the store
    /// suites commit them: stamped at `time` (synchronised), received 1 ms later.
    static func signed(serial: String, sequence: UInt64, key: Curve25519.Signing.PrivateKey, at time: Int64,
                       bootID: UInt8 = 3) throws -> StoredMessage {
        let telemetry = Telemetry(serial: serial, sequence: sequence, floor: 0, timestamp: UInt64(time), clockSynchronised: true,
                                  bootID: [UInt8](repeating: bootID, count: 16), millisecondsSinceBoot: sequence,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 290, unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)), receivedAt: time + 1)
    }
}
