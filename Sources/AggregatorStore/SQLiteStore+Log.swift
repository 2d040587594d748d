import Foundation
import GRDB
import TransparencyLog
import Wire

/// The transparency log in SQLite (issue 16): every stored message and
/// every key event is appended, in commit order, inside the transaction
/// that makes it, so a message is in the log exactly when it is stored and
/// a key speaks for a device exactly when the log says so. Each entry is a
/// row: a message's own (its log index and the bytes it holds), or a
/// record the aggregator wrote; the row also keeps the hashes its append
/// added (`EntryHashes`: its leaf and the complete subtrees it closed),
/// from which roots, proofs and tiles are read.
extension SQLiteStore {
    static func registerLogMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-log") { db in
            try db.execute(sql: """
                CREATE TABLE log_entry (
                    idx INTEGER PRIMARY KEY,
                    serial TEXT NOT NULL,
                    sequence INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX log_entry_message ON log_entry (serial, sequence);
                CREATE TABLE log_hash (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                ) WITHOUT ROWID;
                """)
        }
        // Entries the aggregator writes itself (key events, epoch
        // summaries): kept whole, since no message row holds their bytes.
        migrator.registerMigration("v9-log-records") { db in
            try db.execute(sql: "CREATE TABLE log_record (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        }
        // Which device a key event is about ('' for the other records), so
        // a device's log receipt finds the event binding its key. Records
        // logged before are read once to fill it in.
        migrator.registerMigration("v10-log-record-serial") { db in
            try db.execute(sql: "ALTER TABLE log_record ADD COLUMN serial TEXT")
            for row in try Row.fetchAll(db, sql: "SELECT idx, entry FROM log_record") {
                let index: Int64 = row[0]
                try db.execute(sql: "UPDATE log_record SET serial = ? WHERE idx = ?",
                               arguments: [KeyEvent.serial(ofLogged: Array(row[1] as Data)) ?? "", index])
            }
            try db.execute(sql: "CREATE INDEX log_record_serial ON log_record (serial, idx)")
        }
        // An entry's row holds its log index and the hashes its append
        // added: the log_entry table said where a message is with a second
        // key on (serial, sequence), and log_hash kept one row per hash,
        // three rows more per stored message.
        migrator.registerMigration("v11-entry-rows") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN log_idx INTEGER;
                ALTER TABLE message ADD COLUMN log_hashes BLOB;
                ALTER TABLE log_record ADD COLUMN hashes BLOB;
                UPDATE message SET log_idx = (SELECT e.idx FROM log_entry e WHERE e.serial = message.serial AND e.sequence = message.sequence);
                CREATE UNIQUE INDEX message_log ON message (log_idx);
                """)
            // A hash at (level, idx) was added by entry (idx + 1)·2^level − 1.
            func store(_ hashes: Data, entry: Int64) throws {
                try db.execute(sql: "UPDATE message SET log_hashes = ? WHERE log_idx = ?", arguments: [hashes, entry])
                try db.execute(sql: "UPDATE log_record SET hashes = ? WHERE idx = ?", arguments: [hashes, entry])
            }
            let added = try Row.fetchCursor(db, sql: "SELECT ((idx + 1) << level) - 1 AS entry, hash FROM log_hash ORDER BY entry, level")
            var current: (entry: Int64, hashes: Data)?
            while let row = try added.next() {
                let entry: Int64 = row[0]
                if let done = current, done.entry != entry { try store(done.hashes, entry: done.entry); current = nil }
                current = (entry, (current?.hashes ?? Data()) + (row[1] as Data))
            }
            if let done = current { try store(done.hashes, entry: done.entry) }
            try db.execute(sql: "DROP TABLE log_entry; DROP TABLE log_hash")
        }
    }

    /// The appender at the log's current size, from its frontier.
    static func logAppender(_ db: Database) throws -> LogAppender {
        let size = try logSize(db)
        let positions = LogAppender.frontierPositions(size: size).map { StoredPosition(level: $0.level, index: $0.index) }
        let rows = try entryHashes(db, Set(positions.compactMap(\.completingEntry)))
        var frontier: [MerkleHash] = []
        for position in positions {
            guard let entry = position.completingEntry, let bytes = rows[entry], let hash = EntryHashes.hash(in: bytes, level: position.level) else {
                throw LogStoreError.missingHash(level: position.level, index: position.index)
            }
            frontier.append(hash)
        }
        guard let appender = LogAppender(size: size, frontier: frontier) else { throw LogStoreError.missingHash(level: 0, index: size) }
        return appender
    }

    /// Appends an entry the aggregator wrote (a signed key event about
    /// `serial`, or an epoch summary), in the caller's transaction. (A
    /// stored message is appended by its own insert: SQLiteCommitBatch.)
    static func appendRecordToLog(_ db: Database, entry: [UInt8], about serial: String? = nil) throws {
        var appender = try logAppender(db)
        let index = appender.size
        let hashes = EntryHashes.encode(appender.append(entry))
        try db.cachedStatement(sql: "INSERT INTO log_record (idx, entry, serial, hashes) VALUES (?, ?, ?, ?)")
            .execute(arguments: [Int64(index), Data(entry), serial ?? "", Data(hashes)])
    }

    public func logEntryHashes(_ entries: Set<UInt64>) async throws -> [UInt64: [UInt8]] {
        try await pool.read { db in try Self.entryHashes(db, entries) }
    }

    static func entryHashes(_ db: Database, _ entries: Set<UInt64>) throws -> [UInt64: [UInt8]] {
        let wanted = entries.map { Int64(clamping: $0) }
        var found: [UInt64: [UInt8]] = [:]
        // SQLite binds at most 32,766 values; a proof needs a few dozen.
        for chunk in stride(from: 0, to: wanted.count, by: 8192).map({ wanted[$0..<min($0 + 8192, wanted.count)] }) {
            let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            let arguments = StatementArguments(Array(chunk) + Array(chunk))
            for row in try Row.fetchAll(db, sql: """
                SELECT log_idx, log_hashes FROM message WHERE log_idx IN (\(list))
                UNION ALL SELECT idx, hashes FROM log_record WHERE idx IN (\(list))
                """, arguments: arguments) {
                if let hashes = row[1] as Data? { found[UInt64(row[0] as Int64)] = Array(hashes) }
            }
        }
        return found
    }

    /// The logged entries (each message's exact signed bytes), indices
    /// `from ..< from + count`.
    public func logEntries(from start: UInt64, count: Int) async throws -> [[UInt8]] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT log_idx, raw FROM message WHERE log_idx >= ?1 AND log_idx < ?2
                UNION ALL SELECT idx, entry FROM log_record WHERE idx >= ?1 AND idx < ?2
                ORDER BY 1
                """), arguments: [Int64(start), Int64(start) + Int64(count)]).map { Array($0[1] as Data) }
        }
    }

    /// Where the message `serial`/`sequence` is in the log (nil: not logged).
    public func logIndex(serial: String, sequence: UInt64) async throws -> UInt64? {
        try await pool.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT log_idx FROM message WHERE serial = ? AND sequence = ?"),
                               arguments: [serial, Int64(bitPattern: sequence)]).map { UInt64($0) }
        }
    }

    public func logReceiptEntries(serial: String, upTo sequence: UInt64, below size: UInt64) async throws
        -> (message: LoggedMessage?, keyEvent: LoggedEntry?) {
        try await pool.read { db in
            // Walks the device's messages down from `sequence`: only those
            // logged after the checkpoint are passed over.
            let message = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT sequence, log_idx, raw FROM message
                WHERE serial = ? AND sequence <= ? AND log_idx < ? ORDER BY sequence DESC LIMIT 1
                """), arguments: [serial, Int64(clamping: sequence), Int64(clamping: size)]).map { row in
                LoggedMessage(sequence: UInt64(row[0] as Int64), entry: LoggedEntry(index: UInt64(row[1] as Int64), bytes: Array(row[2] as Data)))
            }
            let keyEvent = try Row.fetchOne(db.cachedStatement(sql: "SELECT idx, entry FROM log_record WHERE serial = ? AND idx < ? ORDER BY idx DESC LIMIT 1"),
                                            arguments: [serial, Int64(clamping: size)]).map { LoggedEntry(index: UInt64($0[0] as Int64), bytes: Array($0[1] as Data)) }
            return (message, keyEvent)
        }
    }

    public func logSize() async throws -> UInt64 {
        try await pool.read { db in try Self.logSize(db) }
    }

    static func logSize(_ db: Database) throws -> UInt64 {
        // The log's last entry is a message or a record.
        UInt64(try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT max(coalesce((SELECT max(log_idx) FROM message), -1), coalesce((SELECT max(idx) FROM log_record), -1)) + 1
            """)) ?? 0)
    }
}

/// The log's size and root: what a checkpoint states.
public struct LogHead: Equatable, Sendable {
    public var size: UInt64
    public var root: MerkleHash

    public init(size: UInt64, root: MerkleHash) {
        self.size = size
        self.root = root
    }
}

enum LogStoreError: Error, CustomStringConvertible {
    case missingHash(level: Int, index: UInt64)

    var description: String {
        switch self {
        case let .missingHash(level, index): return "the transparency log is missing its stored hash at level \(level) index \(index)"
        }
    }
}
