import Aggregator
import Crypto
import Foundation
import GRDB
import Identity
import Wire

/// Enrollments (what `enroll` leaves for a device: a salted scrypt verifier
/// of the PIN, never the PIN) and the two pairing transactions: taking an
/// attempt, and binding the key. The scrypt check runs between them,
/// outside any transaction, so it never holds the single writer.
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
        // Pairing v2: the verifier is a salted scrypt of the PIN. Pending
        // v1 enrollments stored the pairing MAC key itself (enough to forge
        // a pairing); they are dropped and must be issued again.
        migrator.registerMigration("v4-enrollment-salt") { db in
            try db.execute(sql: """
                ALTER TABLE enrollment ADD COLUMN salt BLOB NOT NULL DEFAULT x'';
                DELETE FROM enrollment WHERE used = 0;
                """)
        }
    }

    /// Saves a new enrollment for `serial`, replacing any earlier one (a
    /// re-enrollment issues a new PIN; the old PIN stops working). A revoked
    /// serial is refused: `devices reinstate` comes first.
    public func saveEnrollment(_ enrollment: Enrollment, at time: Int64) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT revoked FROM device WHERE serial = ?", arguments: [enrollment.serial]) == true {
                throw EnrollmentRefused.revoked(serial: enrollment.serial)
            }
            try db.execute(sql: """
                INSERT INTO enrollment (serial, salt, verifier, kdf_log_n, kdf_r, kdf_p, expires_at, attempts_left, used, seen_nonces, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (serial) DO UPDATE SET salt = excluded.salt, verifier = excluded.verifier, kdf_log_n = excluded.kdf_log_n,
                    kdf_r = excluded.kdf_r, kdf_p = excluded.kdf_p, expires_at = excluded.expires_at, attempts_left = excluded.attempts_left,
                    used = excluded.used, seen_nonces = excluded.seen_nonces, created_at = excluded.created_at
                """, arguments: Self.arguments(enrollment) + [time])
            try db.execute(sql: "INSERT INTO device (serial) VALUES (?) ON CONFLICT DO NOTHING", arguments: [enrollment.serial])
        }
    }

    public func enrollment(serial: String) throws -> Enrollment? {
        try pool.read { db in try Self.enrollment(db, serial: serial) }
    }

    public func reservePairingAttempt(serial: String, nonce: [UInt8], now: Int64) async throws -> PairingAuthority.Reservation {
        try await pool.write { db in
            let revoked = try Bool.fetchOne(db, sql: "SELECT revoked FROM device WHERE serial = ?", arguments: [serial]) ?? false
            let reservation = PairingAuthority.reserve(try Self.enrollment(db, serial: serial), revoked: revoked, nonce: nonce,
                                                       now: UInt64(clamping: now))
            if case let .granted(updated) = reservation {
                try db.execute(sql: "UPDATE enrollment SET attempts_left = ?, seen_nonces = ? WHERE serial = ?",
                               arguments: [updated.attemptsLeft, Data(EnrollmentNonces.encode(updated.seenNonces)), serial])
            }
            return reservation
        }
    }

    public func completePairing(_ request: PairRequest, now: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> PairingAuthority.Decision {
        try await pool.write { db in
            let serial = request.serial
            let revoked = try Bool.fetchOne(db, sql: "SELECT revoked FROM device WHERE serial = ?", arguments: [serial]) ?? false
            if let refusal = PairingAuthority.bindingRefusal(try Self.enrollment(db, serial: serial), revoked: revoked, request: request) {
                return refusal
            }
            try db.execute(sql: "UPDATE enrollment SET used = 1 WHERE serial = ?", arguments: [serial])
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey)
            try Self.bindKey(db, serial: serial, publicKey: key, at: now, logKey: logKey, declaring: request.sensors)
            try db.execute(sql: "UPDATE device SET board = ?, paired_at = ? WHERE serial = ?", arguments: [request.board, now, serial])
            try db.execute(sql: "DELETE FROM device_sensor WHERE serial = ?", arguments: [serial])
            for sensor in request.sensors {
                // Names are unique: bindingRefusal refuses a repeated one.
                try db.execute(sql: "INSERT INTO device_sensor (serial, name, driver, interval_ms) VALUES (?, ?, ?, ?)",
                               arguments: [serial, sensor.name, sensor.driver, Int64(clamping: sensor.intervalMilliseconds)])
            }
            // Stored or set aside as a dead letter: either number is taken.
            let highest = try Int64.fetchOne(db, sql: """
                SELECT max(s) FROM (SELECT max(sequence) AS s FROM message WHERE serial = ?1
                                    UNION ALL SELECT max(sequence) FROM dead_letter WHERE serial = ?1)
                """, arguments: [serial]) ?? 0
            return .accepted(publicKey: request.publicKey, request: request, highestSequence: UInt64(clamping: highest))
        }
    }

    private static func enrollment(_ db: Database, serial: String) throws -> Enrollment? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrollment WHERE serial = ?", arguments: [serial]) else { return nil }
        let kdf = PairRequest.KDFParameters(logN: UInt8(clamping: row["kdf_log_n"] as Int64), r: UInt32(clamping: row["kdf_r"] as Int64),
                                            p: UInt32(clamping: row["kdf_p"] as Int64))
        return Enrollment(serial: serial, salt: Array(row["salt"] as Data), verifier: Array(row["verifier"] as Data), kdf: kdf,
                          expiresAt: UInt64(clamping: row["expires_at"] as Int64), attemptsLeft: Int(clamping: row["attempts_left"] as Int64),
                          used: row["used"], seenNonces: EnrollmentNonces.decode(Array(row["seen_nonces"] as Data)))
    }

    private static func arguments(_ enrollment: Enrollment) -> StatementArguments {
        [enrollment.serial, Data(enrollment.salt), Data(enrollment.verifier), Int64(enrollment.kdf.logN), Int64(enrollment.kdf.r),
         Int64(enrollment.kdf.p), Int64(clamping: enrollment.expiresAt), enrollment.attemptsLeft, enrollment.used,
         Data(EnrollmentNonces.encode(enrollment.seenNonces))]
    }
}

/// Why `enroll` was refused.
public enum EnrollmentRefused: OperatorInputError, Equatable {
    case revoked(serial: String)

    public var description: String {
        switch self {
        case let .revoked(serial):
            return "\(serial) is revoked: run `fieldproof-aggregator devices reinstate \(serial)` first if it is to be trusted again"
        }
    }
}
