import Aggregator
import Foundation
import GRDB

/// Dead letters: accepted messages the store could not commit after
/// `CommitBatcher`'s tries. Kept whole (the bytes as received, so nothing a
/// device signed is lost and an operator can replay or inspect it), with the
/// store's error and how many tries it took; their sequences count as
/// settled for the highest contiguous sequence, and a redelivery is a
/// duplicate (not tried again).
extension SQLiteStore {
    static func registerDeadLetterMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-dead-letters") { db in
            try db.execute(sql: """
                CREATE TABLE dead_letter (
                    serial TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    raw BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    error TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    tries INTEGER NOT NULL,
                    PRIMARY KEY (serial, sequence)
                ) WITHOUT ROWID;
                """)
        }
    }

    static func isDeadLettered(_ db: Database, serial: String, sequence: UInt64) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM dead_letter WHERE serial = ? AND sequence = ?)"),
                          arguments: [serial, Int64(bitPattern: sequence)]) ?? false
    }

    public func deadLetter(_ message: StoredMessage, error: String, tries: Int, at time: Int64) async throws -> CommitResult? {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO dead_letter (serial, sequence, raw, hash, error, at, tries) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [message.serial, Int64(bitPattern: message.sequence), Data(message.raw), Data(message.hash),
                                 String(error.prefix(2000)), time, Int64(clamping: tries)])
            try db.execute(sql: "INSERT INTO device (serial) VALUES (?) ON CONFLICT DO NOTHING", arguments: [message.serial])
            let highest = try SQLiteCommitBatch.advanceHighest(db, serial: message.serial, floor: message.floor)
            return CommitResult(.deadLettered, highestContiguous: highest)
        }
    }

    /// Every dead letter (optionally one device's), in (serial, sequence) order.
    public func deadLetters(serial: String?, page: PageRequest<DeadLetterKey>) async throws -> Page<DeadLetter> {
        try await pool.read { db in
            var conditions: [String] = []
            var values: [any DatabaseValueConvertible] = []
            if let serial { conditions.append("serial = ?"); values.append(serial) }
            if let after = page.after {
                conditions.append("(serial > ? OR (serial = ? AND sequence > ?))")
                values += [after.serial, after.serial, Int64(clamping: after.sequence)]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            values.append(page.limit + 1)
            let rows = try Row.fetchAll(db, sql: "SELECT serial, sequence, raw, error, at, tries FROM dead_letter \(filter) ORDER BY serial, sequence LIMIT ?",
                                        arguments: StatementArguments(values)).map { row in
                DeadLetter(serial: row["serial"], sequence: UInt64(bitPattern: row["sequence"] as Int64), error: row["error"], time: row["at"],
                           tries: Int(clamping: row["tries"] as Int64), raw: Array(row["raw"] as Data))
            }
            return Page(fetched: rows, limit: page.limit)
        }
    }
}
