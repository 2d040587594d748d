import Foundation
import GRDB
import TransparencyLog

/// The transparency log in SQLite (issue 16): every stored message is
/// appended, in commit order, inside the commit's own transaction, so a
/// message is in the log exactly when it is stored. Kept as entries (a
/// message by its serial and sequence, whose bytes the message table holds)
/// and stored hashes: the hash of each complete aligned subtree, from
/// which roots, proofs and tiles are read.
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

    /// Appends a stored message's signed bytes to the log.
    static func appendToLog(_ db: Database, _ appender: inout LogAppender, message: StoredMessage) throws {
        let index = appender.size
        try db.cachedStatement(sql: "INSERT INTO log_entry (idx, serial, sequence) VALUES (?, ?, ?)")
            .execute(arguments: [Int64(index), message.serial, Int64(bitPattern: message.sequence)])
        for stored in appender.append(message.raw) {
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

    /// The logged entries (each message's exact signed bytes), indices
    /// `from ..< from + count`.
    public func logEntries(from start: UInt64, count: Int) async throws -> [[UInt8]] {
        try await pool.read { db in
            try Data.fetchAll(db.cachedStatement(sql: """
                SELECT m.raw FROM log_entry e JOIN message m ON m.serial = e.serial AND m.sequence = e.sequence
                WHERE e.idx >= ? AND e.idx < ? ORDER BY e.idx
                """), arguments: [Int64(start), Int64(start) + Int64(count)]).map { Array($0) }
        }
    }

    /// Where the message `serial`/`sequence` is in the log (nil: not logged).
    public func logIndex(serial: String, sequence: UInt64) async throws -> UInt64? {
        try await pool.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT idx FROM log_entry WHERE serial = ? AND sequence = ?"),
                               arguments: [serial, Int64(bitPattern: sequence)]).map { UInt64($0) }
        }
    }

    public func logSize() async throws -> UInt64 {
        try await pool.read { db in try Self.logSize(db) }
    }

    static func logSize(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entry") ?? 0)
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
