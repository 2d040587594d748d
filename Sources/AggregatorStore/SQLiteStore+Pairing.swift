import Aggregator
import Crypto
import Foundation
import GRDB
import Identity
import Wire

/// Enrollments (what `enroll` leaves for a device: the PIN's verifier,
/// never the PIN) and the pairing decision, made and saved in one write
/// transaction so two requests racing for one enrollment cannot both use it.
extension SQLiteStore {
    static func registerPairingMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-enrollment") { db in
            try db.execute(sql: """
                CREATE TABLE enrollment (
                    serial TEXT PRIMARY KEY NOT NULL,
                    verifier BLOB NOT NULL,
                    kdf_log_n INTEGER NOT NULL,
                    kdf_r INTEGER NOT NULL,
                    kdf_p INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    attempts_left INTEGER NOT NULL,
                    used INTEGER NOT NULL DEFAULT 0,
                    seen_nonces BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                ALTER TABLE device ADD COLUMN board TEXT;
                ALTER TABLE device ADD COLUMN paired_at INTEGER;
                CREATE TABLE device_sensor (
                    serial TEXT NOT NULL,
                    name TEXT NOT NULL,
                    driver TEXT NOT NULL,
                    interval_ms INTEGER NOT NULL,
                    PRIMARY KEY (serial, name)
                ) WITHOUT ROWID;
                """)
        }
    }

    /// Saves a new enrollment for `serial`, replacing any earlier one (a
    /// re-enrollment issues a new PIN; the old PIN stops working).
    public func saveEnrollment(_ enrollment: Enrollment, at time: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO enrollment (serial, verifier, kdf_log_n, kdf_r, kdf_p, expires_at, attempts_left, used, seen_nonces, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (serial) DO UPDATE SET verifier = excluded.verifier, kdf_log_n = excluded.kdf_log_n, kdf_r = excluded.kdf_r,
                    kdf_p = excluded.kdf_p, expires_at = excluded.expires_at, attempts_left = excluded.attempts_left, used = excluded.used,
                    seen_nonces = excluded.seen_nonces, created_at = excluded.created_at
                """, arguments: Self.arguments(enrollment) + [time])
            try db.execute(sql: "INSERT INTO device (serial) VALUES (?) ON CONFLICT DO NOTHING", arguments: [enrollment.serial])
        }
    }

    public func enrollment(serial: String) throws -> Enrollment? {
        try pool.read { db in try Self.enrollment(db, serial: serial) }
    }

    /// Judges a PairRequest against the stored enrollment; on acceptance
    /// binds the new key (retiring the old one) and records the device's
    /// board and sensors. Returns the decision and the enrollment's
    /// verifier (the key the answer is MACed with; nil for an unknown serial).
    public func pair(bytes: [UInt8], topic: String, now: Int64, maximumAge: Duration) async throws -> (PairingAuthority.Decision, [UInt8]?) {
        let maximumAgeMilliseconds = UInt64(maximumAge.components.seconds * 1000)
        return try await pool.write { db in
            let serial = Topics.serial(in: topic, kind: "pair/req")
            let stored = try serial.flatMap { try Self.enrollment(db, serial: $0) }
            let (decision, updated) = PairingAuthority.verify(bytes: bytes, topic: topic, enrollment: stored, now: UInt64(now),
                                                              maximumAge: maximumAgeMilliseconds)
            if let updated, updated != stored {
                try db.execute(sql: """
                    UPDATE enrollment SET attempts_left = ?, used = ?, seen_nonces = ? WHERE serial = ?
                    """, arguments: [updated.attemptsLeft, updated.used, Data(EnrollmentNonces.encode(updated.seenNonces)), updated.serial])
            }
            if case let .accepted(publicKey, request) = decision {
                let key = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
                try Self.bindKey(db, serial: request.serial, publicKey: key, at: now)
                try db.execute(sql: "UPDATE device SET board = ?, paired_at = ? WHERE serial = ?", arguments: [request.board, now, request.serial])
                try db.execute(sql: "DELETE FROM device_sensor WHERE serial = ?", arguments: [request.serial])
                for sensor in request.sensors {
                    try db.execute(sql: "INSERT OR REPLACE INTO device_sensor (serial, name, driver, interval_ms) VALUES (?, ?, ?, ?)",
                                   arguments: [request.serial, sensor.name, sensor.driver, Int64(clamping: sensor.intervalMilliseconds)])
                }
            }
            return (decision, stored?.verifier)
        }
    }

    private static func enrollment(_ db: Database, serial: String) throws -> Enrollment? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrollment WHERE serial = ?", arguments: [serial]) else { return nil }
        let kdf = PairRequest.KDFParameters(logN: UInt8(clamping: row["kdf_log_n"] as Int64), r: UInt32(clamping: row["kdf_r"] as Int64),
                                            p: UInt32(clamping: row["kdf_p"] as Int64))
        return Enrollment(serial: serial, verifier: Array(row["verifier"] as Data), kdf: kdf,
                          expiresAt: UInt64(clamping: row["expires_at"] as Int64), attemptsLeft: Int(row["attempts_left"] as Int64),
                          used: row["used"], seenNonces: EnrollmentNonces.decode(Array(row["seen_nonces"] as Data)))
    }

    private static func arguments(_ enrollment: Enrollment) -> StatementArguments {
        [enrollment.serial, Data(enrollment.verifier), Int64(enrollment.kdf.logN), Int64(enrollment.kdf.r), Int64(enrollment.kdf.p),
         Int64(clamping: enrollment.expiresAt), enrollment.attemptsLeft, enrollment.used, Data(EnrollmentNonces.encode(enrollment.seenNonces))]
    }
}
