import Aggregator
import Foundation
import GRDB
import LinuxService

/// The embedded store: one SQLite file in WAL mode, through GRDB. An
/// accepted message, its (serial, sequence) uniqueness and its tally
/// updates are committed in one transaction, so a redelivered message
/// changes nothing and a crash leaves all of it or none.
public final class SQLiteStore: AggregatorDataStore, Sendable {
    public typealias Accepted = StoredMessage

    let pool: DatabasePool
    public let calendar: EpochCalendar
    public let path: String
    /// Always true but in `fieldproof-bench log`, which measures what the
    /// transparency log costs against the same store without it.
    let appendsToLog: Bool

    public convenience init(path: String, calendar: EpochCalendar) throws {
        try self.init(path: path, calendar: calendar, appendsToLog: true)
    }

    /// A store that logs nothing: only for the benchmark's baseline.
    @_spi(Benchmark)
    public init(path: String, calendar: EpochCalendar, appendsToLog: Bool) throws {
        self.appendsToLog = appendsToLog
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB opens WAL with synchronous = NORMAL, which survives a crash of
        // the process but not of the machine: a commit is on disk only at the
        // next checkpoint. An Ack follows each commit and lets the device
        // delete what it covers, so a power cut would lose acknowledged
        // messages. FULL syncs the WAL at every commit (one fdatasync per
        // group commit, not per message).
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        self.calendar = calendar
        self.path = path
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE device (
                    serial TEXT PRIMARY KEY NOT NULL,
                    accepted INTEGER NOT NULL DEFAULT 0,
                    first_seen INTEGER,
                    last_seen INTEGER,
                    highest_contiguous INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE message (
                    serial TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    raw BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    device_time INTEGER NOT NULL,
                    received_at INTEGER NOT NULL,
                    epoch_start INTEGER NOT NULL,
                    PRIMARY KEY (serial, sequence)
                ) WITHOUT ROWID;
                CREATE INDEX message_epoch ON message (epoch_start);
                CREATE TABLE tally (
                    serial TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    epoch_start INTEGER NOT NULL,
                    unit TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    minimum REAL NOT NULL,
                    maximum REAL NOT NULL,
                    sum REAL NOT NULL,
                    PRIMARY KEY (serial, metric, epoch_start)
                ) WITHOUT ROWID;
                CREATE TABLE rejection (
                    serial TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (serial, reason)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-keys") { db in
            try db.execute(sql: """
                CREATE TABLE device_key (
                    serial TEXT NOT NULL,
                    key_id BLOB NOT NULL,
                    public_key BLOB NOT NULL,
                    bound_at INTEGER NOT NULL,
                    retired INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (serial, key_id)
                ) WITHOUT ROWID;
                ALTER TABLE device ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
                """)
        }
        registerPairingMigrations(&migrator)
        registerReadModelMigrations(&migrator)
        registerEpochMigrations(&migrator)
        registerRetimingMigrations(&migrator)
        registerDeadLetterMigrations(&migrator)
        registerLogMigrations(&migrator)
        // A message stored already with the same bytes is a redelivery (the
        // device lacked the ack), counted per device apart from rejections;
        // earlier releases counted it as the rejection duplicate_sequence.
        migrator.registerMigration("v12-redelivered") { db in
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN redelivered INTEGER NOT NULL DEFAULT 0;
                UPDATE device SET redelivered = coalesce((SELECT r.count FROM rejection r WHERE r.serial = device.serial
                                                          AND r.reason = 'duplicate_sequence'), 0);
                DELETE FROM rejection WHERE reason = 'duplicate_sequence';
                """)
        }
        return migrator
    }

    public func commit(_ message: StoredMessage) async throws -> CommitResult {
        try await commit(batch: [message])[0]
    }

    /// Group commit: one transaction (one WAL flush) for the whole batch.
    public func commit(batch messages: [StoredMessage]) async throws -> [CommitResult] {
        let calendar = calendar
        return try await pool.write { db in
            var batch = SQLiteCommitBatch(db: db, calendar: calendar, appendsToLog: appendsToLog)
            return try batch.commit(messages)
        }
    }

    public func recordRejection(serial: String?, reason: String) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO rejection (serial, reason, count) VALUES (?, ?, 1)
                ON CONFLICT (serial, reason) DO UPDATE SET count = count + 1
                """, arguments: [serial ?? "", reason])
            try Self.recordRejectionMinute(db, at: Int64(WallClock.milliseconds()))
        }
    }

    /// Tallies, optionally for one device and an epoch range [from, to), in
    /// (serial, metric, epoch start) order; optionally only those after the
    /// key `after` and at most `limit` of them (a page).
    public func tallies(serial: String? = nil, from: Int64? = nil, to: Int64? = nil, after: TallyKey? = nil,
                        limit: Int? = nil) async throws -> [TallyRow] {
        let calendar = calendar
        return try await pool.read { db in
            var conditions: [String] = []
            var values: [any DatabaseValueConvertible] = []
            if let serial { conditions.append("serial = ?"); values.append(serial) }
            if let from { conditions.append("epoch_start >= ?"); values.append(from) }
            if let to { conditions.append("epoch_start < ?"); values.append(to) }
            if let after {
                conditions.append("(serial, metric, epoch_start) > (?, ?, ?)")
                values += [after.serial, after.metric, after.epochStart] as [any DatabaseValueConvertible]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            if let limit { values.append(limit) }
            return try Row.fetchAll(db, sql: "SELECT * FROM tally \(filter) ORDER BY serial, metric, epoch_start\(limit == nil ? "" : " LIMIT ?")",
                                    arguments: StatementArguments(values)).map { row in
                let start: Int64 = row["epoch_start"]
                return TallyRow(serial: row["serial"], metric: row["metric"], unit: row["unit"], epochStart: start,
                                epochEnd: calendar.end(ofEpochStartingAt: start), count: UInt64(row["count"] as Int64),
                                minimum: row["minimum"], maximum: row["maximum"], sum: row["sum"])
            }
        }
    }

    /// Rejections by reason, for one device ("" holds those that named none).
    public func rejections(serial: String) async throws -> [String: UInt64] {
        try await pool.read { db in try Self.rejections(db, serial: serial) }
    }

    static func rejections(_ db: Database, serial: String) throws -> [String: UInt64] {
        var counts: [String: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT reason, count FROM rejection WHERE serial = ?", arguments: [serial]) {
            counts[row["reason"]] = UInt64(row["count"] as Int64)
        }
        return counts
    }
}

extension SQLiteStore {
    /// Every accepted message (optionally one device's), in (serial,
    /// sequence) order, handed to `body` one at a time.
    public func exportMessages(serial: String?, _ body: @Sendable (ExportedMessage) throws -> Void) async throws {
        try await pool.read { db in
            let filter = serial == nil ? "" : "WHERE serial = ?"
            let cursor = try Row.fetchCursor(db, sql: "SELECT serial, sequence, received_at, hash, raw FROM message \(filter) ORDER BY serial, sequence",
                                             arguments: StatementArguments(serial.map { [$0] } ?? []))
            while let row = try cursor.next() {
                try body(ExportedMessage(serial: row["serial"], sequence: UInt64(bitPattern: row["sequence"] as Int64), receivedAt: row["received_at"],
                                         hash: Array(row["hash"] as Data), raw: Array(row["raw"] as Data)))
            }
        }
    }
}
