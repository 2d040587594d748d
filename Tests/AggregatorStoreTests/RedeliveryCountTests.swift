import Aggregator
import AggregatorStore
import Crypto
import Foundation
import GRDB
import Testing
import TestSupport
import Wire

/// A message that arrives again with the bytes already stored is a
/// redelivery (its device lacked the ack): both stores count it per device,
/// apart from rejections, in the commit that found it; and a store written by
/// an earlier release, which counted it as the rejection
/// `duplicate_sequence`, moves those counts over once.
@Suite(.serialized) struct RedeliveryCountTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let device = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x52, count: 32))

    func message(_ sequence: UInt64, serial: String = "dev-1") throws -> StoredMessage {
        try .signed(serial: serial, sequence: sequence, key: device, at: t0 + Int64(sequence) * 1000)
    }

    @Test(arguments: StoreKind.allCases)
    func redeliveriesAreCountedApartFromRejections(kind: StoreKind) async throws {
        let opened = try await kind.open(calendar: calendar, prefix: "redelivery")
        defer { opened.stop() }
        let store = opened.store
        _ = try await store.commit(batch: try (1...5).map { try message($0) })
        _ = try await store.commit(batch: try (1...5).map { try message($0, serial: "dev-2") })
        #expect(try await store.commit(try message(2)).outcome == .duplicate)
        // A batch holding two redeliveries and a new message.
        let outcomes = try await store.commit(batch: [try message(4), try message(5), try message(6)]).map(\.outcome)
        #expect(outcomes == [.duplicate, .duplicate, .stored])
        var conflicting = try message(3)
        conflicting.raw += [0]
        conflicting.hash = Array(SHA256.hash(data: conflicting.raw))
        #expect(try await store.commit(conflicting).outcome == .conflict, "other bytes are not a redelivery")

        let summary = try #require(try await store.device(serial: "dev-1"))
        #expect(summary.accepted == 6 && summary.redelivered == 3, "\(summary)")
        #expect(summary.rejected.isEmpty, "\(summary.rejected)")
        #expect(try await store.device(serial: "dev-2")?.redelivered == 0, "counted for the device that sent it")
        #expect(try await store.devices().first { $0.serial == "dev-1" }?.redelivered == 3, "the device list reads the same count")
    }

    @Test func sqliteMovesEarlierDuplicateRejectionsOver() async throws {
        let path = try TemporaryDirectory.make(prefix: "redelivery").appendingPathComponent("aggregator.sqlite").path
        var store: SQLiteStore? = try SQLiteStore(path: path, calendar: calendar)
        _ = try await store?.commit(batch: try (1...3).map { try message($0) })
        try await store?.recordRejection(serial: "dev-1", reason: "bad_signature")
        store = nil
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: """
                ALTER TABLE device DROP COLUMN redelivered;
                INSERT INTO rejection (serial, reason, count) VALUES ('dev-1', 'duplicate_sequence', 41);
                DELETE FROM grdb_migrations WHERE identifier = 'v12-redelivered';
                """)
        }
        try queue.close()
        let migrated = try SQLiteStore(path: path, calendar: calendar)
        let summary = try #require(try await migrated.device(serial: "dev-1"))
        #expect(summary.redelivered == 41 && summary.rejected == ["bad_signature": 1], "\(summary)")
        _ = try await migrated.commit(try message(1))
        #expect(try await migrated.device(serial: "dev-1")?.redelivered == 42)
    }

    @Test func postgresMovesEarlierDuplicateRejectionsOver() async throws {
        let server = try await PostgresServer.started()
        defer { server.stop() }
        let store = try await PostgresStore(url: server.url, calendar: calendar)
        _ = try await store.commit(batch: try (1...3).map { try message($0) })
        try await store.recordRejection(serial: "dev-1", reason: "bad_signature")
        store.close()
        let earlier = try await ProcessRunner.run("/usr/bin/psql", [server.url, "-v", "ON_ERROR_STOP=1", "-c", """
            ALTER TABLE device DROP COLUMN redelivered;
            INSERT INTO rejection (serial, reason, count) VALUES ('dev-1', 'duplicate_sequence', 41);
            DELETE FROM fieldproof_schema;
            """])
        #expect(earlier.status == 0, "\(earlier.output)")
        let migrated = try await PostgresStore(url: server.url, calendar: calendar)
        defer { migrated.close() }
        let summary = try #require(try await migrated.device(serial: "dev-1"))
        #expect(summary.redelivered == 41 && summary.rejected == ["bad_signature": 1], "\(summary)")
        _ = try await migrated.commit(try message(1))
        #expect(try await migrated.device(serial: "dev-1")?.redelivered == 42)
        // Starting again moves nothing twice.
        let again = try await PostgresStore(url: server.url, calendar: calendar)
        defer { again.close() }
        #expect(try await again.device(serial: "dev-1")?.redelivered == 42)
    }
}
