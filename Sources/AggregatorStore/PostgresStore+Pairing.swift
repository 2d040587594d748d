import Aggregator
import Crypto
import Foundation
import Identity
import Logging
import PostgresNIO
import Wire

/// Keys, revocation, enrollments and the two pairing transactions on
/// PostgreSQL: the same steps as `SQLiteStore+Pairing`, with the
/// enrollment row locked (`FOR UPDATE`) so several aggregators cannot give
/// one enrollment more attempts than it has, nor use it twice.
extension PostgresStore {
    /// Pairing v2: a salted scrypt verifier. Pending v1 enrollments held
    /// the pairing MAC key itself and are dropped (issue them again).
    static let pairingSchema = [
        "ALTER TABLE enrollment ADD COLUMN IF NOT EXISTS salt BYTEA NOT NULL DEFAULT ''::bytea",
        "DELETE FROM enrollment WHERE NOT used AND length(salt) = 0",
    ]

    public func bindKey(serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64,
                        logKey: Curve25519.Signing.PrivateKey) async throws {
        let logger = logger
        try await client.withTransaction(logger: logger) { connection in
            try await Self.bindKey(connection, serial: serial, publicKey: publicKey, at: time, logKey: logKey, logger: logger)
        }
    }

    /// As in SQLite: the binding is logged as a key event unless the key
    /// already speaks for the device. The device row is locked first, so
    /// two aggregators pairing one serial decide paired/re-paired in turn.
    static func bindKey(_ connection: PostgresConnection, serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64,
                        logKey: Curve25519.Signing.PrivateKey, declaring sensors: [PairRequest.Sensor]? = nil, logger: Logger) async throws {
        let keyID = Data(KeyID.of(publicKey))
        try await connection.query("INSERT INTO device (serial) VALUES (\(serial)) ON CONFLICT DO NOTHING", logger: logger)
        try await connection.query("SELECT 1 FROM device WHERE serial = \(serial) FOR UPDATE", logger: logger)
        let keys = try await connection.query("SELECT key_id, retired FROM device_key WHERE serial = \(serial)", logger: logger)
            .collect().map { try $0.decode((Data, Bool).self) }
        try await connection.query("UPDATE device_key SET retired = TRUE WHERE serial = \(serial) AND key_id <> \(keyID)", logger: logger)
        try await connection.query("""
            INSERT INTO device_key (serial, key_id, public_key, bound_at) VALUES (\(serial), \(keyID), \(Data(publicKey.rawRepresentation)), \(time))
            ON CONFLICT (serial, key_id) DO UPDATE SET retired = FALSE, bound_at = excluded.bound_at
            """, logger: logger)
        guard !keys.contains(where: { $0.0 == keyID && !$0.1 }) else { return }
        let event = KeyEvent(kind: keys.isEmpty ? .paired : .repaired, serial: serial, publicKey: Array(publicKey.rawRepresentation),
                             time: UInt64(clamping: time), sensors: sensors)
        try await appendRecordToLog(connection, entry: try event.signed(by: logKey), about: serial, logger: logger)
    }

    /// Revokes the serial, retires its keys and cancels pending enrollments;
    /// logged once, with the key it retired.
    public func revoke(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            guard let revoked = try await connection.query("SELECT revoked FROM device WHERE serial = \(serial) FOR UPDATE", logger: logger)
                .collect().first?.decode(Bool.self) else { return false }
            guard !revoked else { return true }
            let current = try await connection.query("SELECT public_key FROM device_key WHERE serial = \(serial) AND NOT retired", logger: logger)
                .collect().first?.decode(Data.self)
            try await connection.query("UPDATE device SET revoked = TRUE WHERE serial = \(serial)", logger: logger)
            try await connection.query("UPDATE device_key SET retired = TRUE WHERE serial = \(serial)", logger: logger)
            try await connection.query("DELETE FROM enrollment WHERE serial = \(serial) AND NOT used", logger: logger)
            let event = KeyEvent(kind: .revoked, serial: serial, publicKey: current.map { Array($0) }, time: UInt64(clamping: time))
            try await Self.appendRecordToLog(connection, entry: try event.signed(by: logKey), about: serial, logger: logger)
            return true
        }
    }

    public func reinstate(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            guard try await !connection.query("UPDATE device SET revoked = FALSE WHERE serial = \(serial) AND revoked RETURNING 1", logger: logger)
                .collect().isEmpty else { return false }
            let event = KeyEvent(kind: .reinstated, serial: serial, publicKey: nil, time: UInt64(clamping: time))
            try await Self.appendRecordToLog(connection, entry: try event.signed(by: logKey), about: serial, logger: logger)
            return true
        }
    }

    public func saveEnrollment(_ enrollment: Enrollment, at time: Int64) async throws {
        let logger = logger
        // The refusal leaves the transaction as a value: PostgresNIO wraps what a transaction's body throws.
        let refused = try await client.withTransaction(logger: logger) { connection -> Bool in
            try await connection.query("INSERT INTO device (serial) VALUES (\(enrollment.serial)) ON CONFLICT DO NOTHING", logger: logger)
            let revoked = try await connection.query("SELECT revoked FROM device WHERE serial = \(enrollment.serial) FOR UPDATE", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            if revoked { return true }
            try await connection.query("""
                INSERT INTO enrollment (serial, salt, verifier, kdf_log_n, kdf_r, kdf_p, expires_at, attempts_left, used, seen_nonces, created_at)
                VALUES (\(enrollment.serial), \(Data(enrollment.salt)), \(Data(enrollment.verifier)), \(Int64(enrollment.kdf.logN)),
                        \(Int64(enrollment.kdf.r)), \(Int64(enrollment.kdf.p)), \(Int64(clamping: enrollment.expiresAt)),
                        \(Int64(enrollment.attemptsLeft)), \(enrollment.used), \(Data(EnrollmentNonces.encode(enrollment.seenNonces))), \(time))
                ON CONFLICT (serial) DO UPDATE SET salt = excluded.salt, verifier = excluded.verifier, kdf_log_n = excluded.kdf_log_n,
                    kdf_r = excluded.kdf_r, kdf_p = excluded.kdf_p, expires_at = excluded.expires_at, attempts_left = excluded.attempts_left,
                    used = excluded.used, seen_nonces = excluded.seen_nonces, created_at = excluded.created_at
                """, logger: logger)
            return false
        }
        if refused { throw EnrollmentRefused.revoked(serial: enrollment.serial) }
    }

    public func reservePairingAttempt(serial: String, nonce: [UInt8], now: Int64) async throws -> PairingAuthority.Reservation {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            let revoked = try await connection.query("SELECT revoked FROM device WHERE serial = \(serial)", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            let stored = try await Self.enrollment(connection, serial: serial, logger: logger)
            let reservation = PairingAuthority.reserve(stored, revoked: revoked, nonce: nonce, now: UInt64(clamping: now))
            if case let .granted(updated) = reservation {
                try await connection.query("""
                    UPDATE enrollment SET attempts_left = \(Int64(updated.attemptsLeft)),
                        seen_nonces = \(Data(EnrollmentNonces.encode(updated.seenNonces))) WHERE serial = \(serial)
                    """, logger: logger)
            }
            return reservation
        }
    }

    public func completePairing(_ request: PairRequest, now: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> PairingAuthority.Decision {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            let serial = request.serial
            let revoked = try await connection.query("SELECT revoked FROM device WHERE serial = \(serial) FOR UPDATE", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            let enrollment = try await Self.enrollment(connection, serial: serial, logger: logger)
            if let refusal = PairingAuthority.bindingRefusal(enrollment, revoked: revoked, request: request) { return refusal }
            try await connection.query("UPDATE enrollment SET used = TRUE WHERE serial = \(serial)", logger: logger)
            try await Self.bindKey(connection, serial: serial, publicKey: try Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey),
                                   at: now, logKey: logKey, declaring: request.sensors, logger: logger)
            try await connection.query("UPDATE device SET board = \(request.board), paired_at = \(now) WHERE serial = \(serial)", logger: logger)
            try await connection.query("DELETE FROM device_sensor WHERE serial = \(serial)", logger: logger)
            for sensor in request.sensors {
                // Names are unique: bindingRefusal refuses a repeated one.
                try await connection.query("""
                    INSERT INTO device_sensor (serial, name, driver, interval_ms)
                    VALUES (\(serial), \(sensor.name), \(sensor.driver), \(Int64(clamping: sensor.intervalMilliseconds)))
                    """, logger: logger)
            }
            // Stored or set aside as a dead letter: either number is taken.
            let highest = try await connection.query("""
                SELECT coalesce(greatest((SELECT max(sequence) FROM message WHERE serial = \(serial)),
                                         (SELECT max(sequence) FROM dead_letter WHERE serial = \(serial))), 0)
                """, logger: logger).collect().first?.decode(Int64.self) ?? 0
            return .accepted(publicKey: request.publicKey, request: request, highestSequence: UInt64(clamping: highest))
        }
    }

    /// The enrollment row, locked for the rest of the transaction.
    private static func enrollment(_ connection: PostgresConnection, serial: String, logger: Logger) async throws -> Enrollment? {
        let rows = try await connection.query("""
            SELECT salt, verifier, kdf_log_n, kdf_r, kdf_p, expires_at, attempts_left, used, seen_nonces FROM enrollment
            WHERE serial = \(serial) FOR UPDATE
            """, logger: logger).collect()
        guard let row = rows.first else { return nil }
        let (salt, verifier, logN, r, p, expiresAt, attemptsLeft, used, nonces) =
            try row.decode((Data, Data, Int64, Int64, Int64, Int64, Int64, Bool, Data).self)
        return Enrollment(serial: serial, salt: Array(salt), verifier: Array(verifier),
                          kdf: PairRequest.KDFParameters(logN: UInt8(clamping: logN), r: UInt32(clamping: r), p: UInt32(clamping: p)),
                          expiresAt: UInt64(clamping: expiresAt), attemptsLeft: Int(clamping: attemptsLeft), used: used,
                          seenNonces: EnrollmentNonces.decode(Array(nonces)))
    }
}
