import Foundation
import GRDB
import TransparencyLog
import Wire

/// The transparency log in SQLite (issue 16): every stored message and
/// every key event is appended, in commit order, inside the transaction
/// that makes it, so a message is in the log exactly when it is stored and
/// a key speaks for a device exactly when the log says so. Kept as entries
/// (a message by the log index on its own row, whose bytes that row holds;
/// the aggregator's own records whole) and stored hashes: the hash of each
/// complete aligned subtree, from which roots, proofs and tiles are read.
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
        // A message's log index on its own row: the log_entry table said the
        // same with a second key on (serial, sequence), written at random
        // places in its index once per stored message.
        migrator.registerMigration("v11-message-log-index") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN log_idx INTEGER;
                UPDATE message SET log_idx = (SELECT e.idx FROM log_entry e WHERE e.serial = message.serial AND e.sequence = message.sequence);
                CREATE UNIQUE INDEX message_log ON message (log_idx);
                DROP TABLE log_entry;
                """)
        }
    }

    /// The appender at the log's current size, from its frontier.
    static func logAppender(_ db: Database) throws -> LogAppender {
        let size = try logSize(db)
        var frontier: [MerkleHash] = []
        for position in LogAppender.frontierPositions(size: size) {
            guard let bytes = try Data.fetchOne(db.cachedStatement(sql: "SELECT hash FROM log_hash WHERE level = ? AND idx = ?"),
                                                arguments: [position.level, Int64(position.index)]),
                  let hash = MerkleHash(bytes: Array(bytes)) else {
                throw LogStoreError.missingHash(level: position.level, index: position.index)
            }
            frontier.append(hash)
        }
        guard let appender = LogAppender(size: size, frontier: frontier) else { throw LogStoreError.missingHash(level: 0, index: size) }
        return appender
    }

    /// Appends a stored message's signed bytes to the log: its row, just
    /// inserted with `log_idx` at the appender's size, is the entry.
    static func appendToLog(_ db: Database, _ appender: inout LogAppender, message: StoredMessage) throws {
        try storeHashes(db, &appender, entry: message.raw)
    }

    /// Appends an entry the aggregator wrote (a signed key event about
    /// `serial`, or an epoch summary), in the caller's transaction.
    static func appendRecordToLog(_ db: Database, entry: [UInt8], about serial: String? = nil) throws {
        var appender = try logAppender(db)
        try db.cachedStatement(sql: "INSERT INTO log_record (idx, entry, serial) VALUES (?, ?, ?)")
            .execute(arguments: [Int64(appender.size), Data(entry), serial ?? ""])
        try storeHashes(db, &appender, entry: entry)
    }

    private static func storeHashes(_ db: Database, _ appender: inout LogAppender, entry: [UInt8]) throws {
        for stored in appender.append(entry) {
            try db.cachedStatement(sql: "INSERT INTO log_hash (level, idx, hash) VALUES (?, ?, ?)")
                .execute(arguments: [stored.level, Int64(stored.index), Data(stored.hash.bytes)])
        }
    }

    /// Stored hashes at one tree level, indices `from ..< from + count`
    /// (fewer when the log has not grown that far).
    public func logHashes(level: Int, from start: UInt64, count: Int) async throws -> [MerkleHash] {
        try await pool.read { db in
            try Data.fetchAll(db.cachedStatement(sql: "SELECT hash FROM log_hash WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"),
                              arguments: [level, Int64(start), Int64(start) + Int64(count)]).compactMap { MerkleHash(bytes: Array($0)) }
        }
    }

    public func logHashes(at positions: Set<StoredPosition>) async throws -> [StoredPosition: MerkleHash] {
        guard !positions.isEmpty else { return [:] }
        let wanted = Array(positions)
        return try await pool.read { db in
            var found: [StoredPosition: MerkleHash] = [:]
            // SQLite binds at most 32,766 values; a proof needs a few dozen.
            for chunk in stride(from: 0, to: wanted.count, by: 4096).map({ wanted[$0..<min($0 + 4096, wanted.count)] }) {
                let values = Array(repeating: "(?, ?)", count: chunk.count).joined(separator: ", ")
                var arguments = StatementArguments()
                for position in chunk { arguments += [position.level, Int64(clamping: position.index)] }
                for row in try Row.fetchAll(db, sql: """
                    WITH wanted(level, idx) AS (VALUES \(values))
                    SELECT h.level, h.idx, h.hash FROM wanted w JOIN log_hash h ON h.level = w.level AND h.idx = w.idx
                    """, arguments: arguments) {
                    if let hash = MerkleHash(bytes: Array(row[2] as Data)) {
                        found[StoredPosition(level: row[0], index: UInt64(row[1] as Int64))] = hash
                    }
                }
            }
            return found
        }
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
        // Every entry, message or record, has its leaf hash at level 0.
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_hash WHERE level = 0") ?? 0)
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
