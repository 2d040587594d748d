import Aggregator
import AggregatorStore
import Crypto
import Foundation
import GRDB
import Testing
import TestSupport
import TransparencyLog
import Wire

/// A log kept in the earlier layout (a log_entry row per message and a
/// log_hash row per stored hash) reads the same after the store opens it:
/// same size, root, entries, proofs and message indices, and appends go on
/// from it. The earlier layout is made from a log written now, by moving
/// each entry's hashes back into rows of their own.
@Suite(.serialized) struct LogLayoutMigrationTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let key = Curve25519.Signing.PrivateKey()

    func message(_ sequence: UInt64) throws -> StoredMessage {
        try .signed(serial: "dev-m", sequence: sequence, key: key, at: t0 + Int64(sequence))
    }

    /// 21 entries: 20 messages, one key event between them.
    func fill(_ store: any AggregatorDataStore) async throws {
        _ = try await store.commit(batch: try (1...9).map(message))
        try await store.bindKey(serial: "dev-m", publicKey: key.publicKey, at: t0, logKey: TestAggregator.logKey)
        _ = try await store.commit(batch: try (10...20).map(message))
    }

    struct Snapshot: Equatable {
        var head: LogHead
        var entries: [[UInt8]]
        var inclusion: [MerkleHash]?
        var consistency: [MerkleHash]?
        var tile: [MerkleHash]
        var index: UInt64?

        init(_ store: any AggregatorDataStore) async throws {
            head = try await store.logHead()
            entries = try await store.logEntries(from: 0, count: 256)
            inclusion = try await store.logProofs(size: head.size).inclusionProof(index: 6)
            consistency = try await store.logProofs(size: head.size).consistencyProof(from: 7)
            tile = try await store.logHashes(level: 0, from: 0, count: 256)
            index = try await store.logIndex(serial: "dev-m", sequence: 12)
        }
    }

    /// The earlier layout's rows: each entry's hashes, one row per hash.
    func earlierRows(_ store: any AggregatorDataStore) async throws -> [(level: Int, index: UInt64, hash: MerkleHash)] {
        let size = try await store.logSize()
        let added = try await store.logEntryHashes(Set(0..<size))
        var rows: [(Int, UInt64, MerkleHash)] = []
        for (entry, bytes) in added {
            for level in 0..<(bytes.count / 32) {
                rows.append((level, (entry + 1) >> UInt64(level) - 1, try #require(EntryHashes.hash(in: bytes, level: level))))
            }
        }
        #expect(rows.count == Int(size) * 2 - size.nonzeroBitCount, "n entries store 2n - popcount(n) hashes")
        return rows
    }

    func expectSameLog(before: Snapshot, after store: any AggregatorDataStore) async throws {
        #expect(try await Snapshot(store) == before)
        #expect(before.head.size == 21 && before.index == 12 && before.inclusion != nil && before.tile.count == 21)
        _ = try await store.commit(try message(21))
        var tree = MerkleTree()
        for entry in before.entries + [try message(21).raw] { tree.append(entry) }
        #expect(try await store.logHead() == LogHead(size: 22, root: try #require(tree.root(size: 22))), "appending goes on from the migrated log")
    }

    @Test func sqliteMovesEachEntrysHashesOntoItsRow() async throws {
        let path = try TemporaryDirectory.make(prefix: "log-layout").appendingPathComponent("aggregator.sqlite").path
        var store: SQLiteStore? = try SQLiteStore(path: path, calendar: calendar)
        try await fill(try #require(store))
        let before = try await Snapshot(try #require(store))
        let rows = try await earlierRows(try #require(store))
        store = nil
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: """
                CREATE TABLE log_entry (idx INTEGER PRIMARY KEY, serial TEXT NOT NULL, sequence INTEGER NOT NULL);
                CREATE UNIQUE INDEX log_entry_message ON log_entry (serial, sequence);
                CREATE TABLE log_hash (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
                INSERT INTO log_entry SELECT log_idx, serial, sequence FROM message WHERE log_idx IS NOT NULL;
                DROP INDEX message_log;
                ALTER TABLE message DROP COLUMN log_idx;
                ALTER TABLE message DROP COLUMN log_hashes;
                ALTER TABLE log_record DROP COLUMN hashes;
                DELETE FROM grdb_migrations WHERE identifier = 'v11-entry-rows';
                """)
            for row in rows {
                try db.execute(sql: "INSERT INTO log_hash VALUES (?, ?, ?)", arguments: [row.level, Int64(row.index), Data(row.hash.bytes)])
            }
        }
        try queue.close()
        let migrated = try SQLiteStore(path: path, calendar: calendar)
        try await expectSameLog(before: before, after: migrated)
        let tables = try await DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(!tables.contains("log_hash") && !tables.contains("log_entry"))
    }

    @Test func postgresMovesEachEntrysHashesOntoItsRow() async throws {
        let server = try await PostgresServer.started()
        defer { server.stop() }
        let store = try await PostgresStore(url: server.url, calendar: calendar)
        try await fill(store)
        let before = try await Snapshot(store)
        let rows = try await earlierRows(store)
        store.close()
        let values = rows.map { "(\($0.level), \($0.index), '\\x\($0.hash.bytes.map { String(format: "%02x", $0) }.joined())')" }
        let earlier = try await ProcessRunner.run("/usr/bin/psql", [server.url, "-v", "ON_ERROR_STOP=1", "-c", """
            CREATE TABLE log_hash (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
            INSERT INTO log_hash VALUES \(values.joined(separator: ", "));
            ALTER TABLE log_entry DROP COLUMN hashes;
            ALTER TABLE log_record DROP COLUMN hashes;
            DELETE FROM fieldproof_schema;
            """])
        #expect(earlier.status == 0, "\(earlier.output)")
        let migrated = try await PostgresStore(url: server.url, calendar: calendar)
        defer { migrated.close() }
        try await expectSameLog(before: before, after: migrated)
        let left = try await ProcessRunner.run("/usr/bin/psql", [server.url, "-tA", "-c", "SELECT to_regclass('log_hash') IS NULL"])
        #expect(left.output.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
    }
}
