import Aggregator
import Foundation
import GRDB

/// Re-timing (see `MessageTiming`): the boot anchors, the readings that
/// wait for one, and the flags that say which messages were re-timed.
extension SQLiteStore {
    static func registerRetimingMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-retiming") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN boot_id BLOB;
                ALTER TABLE message ADD COLUMN ms_since_boot INTEGER;
                ALTER TABLE message ADD COLUMN retimed INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE message ADD COLUMN untimed INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX message_untimed ON message (serial, boot_id) WHERE untimed = 1;
                CREATE INDEX message_retimed ON message (serial) WHERE retimed = 1;
                CREATE TABLE boot (
                    serial TEXT NOT NULL,
                    boot_id BLOB NOT NULL,
                    anchor INTEGER NOT NULL,
                    PRIMARY KEY (serial, boot_id)
                ) WITHOUT ROWID;
                CREATE TABLE untimed_reading (
                    serial TEXT NOT NULL,
                    boot_id BLOB NOT NULL,
                    sequence INTEGER NOT NULL,
                    ms_since_boot INTEGER NOT NULL,
                    metric TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    value REAL NOT NULL
                );
                CREATE INDEX untimed_reading_boot ON untimed_reading (serial, boot_id);
                """)
        }
    }

    /// The boot's anchor (Unix ms at boot), if a synchronised message of it
    /// was stored.
    static func bootAnchor(_ db: Database, serial: String, bootID: [UInt8]) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT anchor FROM boot WHERE serial = ? AND boot_id = ?"),
                           arguments: [serial, Data(bootID)])
    }

    /// Keeps an untimed message's readings until its boot is anchored.
    static func holdReadings(_ db: Database, _ message: StoredMessage) throws {
        for reading in message.readings {
            try db.cachedStatement(sql: """
                INSERT INTO untimed_reading (serial, boot_id, sequence, ms_since_boot, metric, unit, value) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [message.serial, Data(message.bootID), Int64(bitPattern: message.sequence), message.millisecondsSinceBoot,
                                         reading.metric, reading.unit, reading.value])
        }
    }

    /// The first synchronised message of a boot anchors it: every message of
    /// that boot that waited is re-timed (time = anchor + ms since boot), its
    /// readings tallied in the epoch they really belong to, and marked.
    static func anchorBoot(_ db: Database, _ message: StoredMessage, calendar: EpochCalendar) throws {
        let anchor = try MessageTiming.anchor(of: message)
        let boot = Data(message.bootID)
        try db.cachedStatement(sql: "INSERT INTO boot (serial, boot_id, anchor) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .execute(arguments: [message.serial, boot, anchor])
        let held = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT metric, unit, value, ms_since_boot FROM untimed_reading WHERE serial = ? AND boot_id = ?
            """), arguments: [message.serial, boot])
        for row in held {
            let time = try MessageTiming.time(anchor: anchor, sinceBoot: row["ms_since_boot"])
            let value: Double = row["value"]
            try tally(db, serial: message.serial, metric: row["metric"], unit: row["unit"], epoch: calendar.start(of: time), count: 1,
                      minimum: value, maximum: value, sum: value)
        }
        try db.cachedStatement(sql: "DELETE FROM untimed_reading WHERE serial = ? AND boot_id = ?").execute(arguments: [message.serial, boot])
        let untimed = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT sequence, ms_since_boot FROM message WHERE serial = ? AND boot_id = ? AND untimed = 1
            """), arguments: [message.serial, boot])
        for row in untimed {
            let time = try MessageTiming.time(anchor: anchor, sinceBoot: row["ms_since_boot"])
            try db.cachedStatement(sql: """
                UPDATE message SET device_time = ?, epoch_start = ?, retimed = 1, untimed = 0 WHERE serial = ? AND sequence = ?
                """).execute(arguments: [time, calendar.start(of: time), message.serial, row["sequence"] as Int64])
        }
    }

    /// Adds `count` readings (their minimum, maximum and sum) to a tally.
    static func tally(_ db: Database, serial: String, metric: String, unit: String, epoch: Int64, count: Int64, minimum: Double, maximum: Double,
                      sum: Double) throws {
        try db.cachedStatement(sql: """
            INSERT INTO tally (serial, metric, epoch_start, unit, count, minimum, maximum, sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (serial, metric, epoch_start) DO UPDATE SET
                count = count + excluded.count, minimum = min(minimum, excluded.minimum),
                maximum = max(maximum, excluded.maximum), sum = sum + excluded.sum
            """).execute(arguments: [serial, metric, epoch, unit, count, minimum, maximum, sum])
    }
}
