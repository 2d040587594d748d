import Crypto
import Foundation
import GRDB
import Wire

/// Device keys: what pairing binds, what revocation retires, and the
/// verifier's view of them.
extension SQLiteStore: DeviceKeyRegistry {
    /// Binds `publicKey` as the device's key (pairing). A key bound before
    /// is retired: messages signed with it are rejected as revoked. The
    /// binding is logged as a key event signed with `logKey`.
    public func bindKey(serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64,
                        logKey: Curve25519.Signing.PrivateKey) async throws {
        try await pool.write { db in try Self.bindKey(db, serial: serial, publicKey: publicKey, at: time, logKey: logKey) }
    }

    static func bindKey(_ db: Database, serial: String, publicKey: Curve25519.Signing.PublicKey, at time: Int64,
                        logKey: Curve25519.Signing.PrivateKey, declaring sensors: [PairRequest.Sensor]? = nil) throws {
        let keyID = Data(KeyID.of(publicKey))
        try db.execute(sql: "INSERT INTO device (serial) VALUES (?) ON CONFLICT DO NOTHING", arguments: [serial])
        let current = try Data.fetchOne(db, sql: "SELECT key_id FROM device_key WHERE serial = ? AND retired = 0", arguments: [serial])
        let bound = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM device_key WHERE serial = ?)", arguments: [serial]) ?? false
        try db.execute(sql: "UPDATE device_key SET retired = 1 WHERE serial = ? AND key_id != ?", arguments: [serial, keyID])
        try db.execute(sql: """
            INSERT INTO device_key (serial, key_id, public_key, bound_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (serial, key_id) DO UPDATE SET retired = 0, bound_at = excluded.bound_at
            """, arguments: [serial, keyID, Data(publicKey.rawRepresentation), time])
        // The key that already speaks for the device changes nothing.
        guard current != keyID else { return }
        let event = KeyEvent(kind: bound ? .repaired : .paired, serial: serial, publicKey: Array(publicKey.rawRepresentation),
                             time: UInt64(clamping: time), sensors: sensors)
        try appendRecordToLog(db, entry: try event.signed(by: logKey), about: serial)
    }

    /// The operator revoked the device: everything it sends is refused, its
    /// keys are retired and its pending enrollments cancelled, so neither a
    /// PIN issued before nor `reinstate` alone makes it trusted again.
    /// Logged (once, with the key it retired) as a key event signed with
    /// `logKey`. Returns false for a serial the store does not know.
    @discardableResult
    public func revoke(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool {
        try await pool.write { db in
            guard let revoked = try Bool.fetchOne(db, sql: "SELECT revoked FROM device WHERE serial = ?", arguments: [serial]) else { return false }
            guard !revoked else { return true }
            let current = try Data.fetchOne(db, sql: "SELECT public_key FROM device_key WHERE serial = ? AND retired = 0", arguments: [serial])
            try db.execute(sql: "UPDATE device SET revoked = 1 WHERE serial = ?", arguments: [serial])
            try db.execute(sql: "UPDATE device_key SET retired = 1 WHERE serial = ?", arguments: [serial])
            try db.execute(sql: "DELETE FROM enrollment WHERE serial = ? AND used = 0", arguments: [serial])
            let event = KeyEvent(kind: .revoked, serial: serial, publicKey: current.map { Array($0) }, time: UInt64(clamping: time))
            try Self.appendRecordToLog(db, entry: try event.signed(by: logKey), about: serial)
            return true
        }
    }

    /// Lifts a revocation: the serial may be enrolled and paired again (its
    /// old keys stay retired), logged as a key event. False for a serial
    /// that is not revoked.
    public func reinstate(serial: String, at time: Int64, logKey: Curve25519.Signing.PrivateKey) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE device SET revoked = 0 WHERE serial = ? AND revoked = 1", arguments: [serial])
            guard db.changesCount > 0 else { return false }
            let event = KeyEvent(kind: .reinstated, serial: serial, publicKey: nil, time: UInt64(clamping: time))
            try Self.appendRecordToLog(db, entry: try event.signed(by: logKey), about: serial)
            return true
        }
    }

    public func keys(for serial: String) -> DeviceKeys? {
        try? pool.read { db in try Self.deviceKeys(db, serial: serial) } ?? nil
    }

    public func deviceKeys(serial: String) async throws -> DeviceKeys? {
        try await pool.read { db in try Self.deviceKeys(db, serial: serial) }
    }

    public func isStored(serial: String, sequence: UInt64) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM message WHERE serial = ? AND sequence = ?)",
                              arguments: [serial, Int64(bitPattern: sequence)]) ?? false
        }
    }

    static func deviceKeys(_ db: Database, serial: String) throws -> DeviceKeys? {
        guard let revoked = try Bool.fetchOne(db, sql: "SELECT revoked FROM device WHERE serial = ?", arguments: [serial]) else { return nil }
        var current: Curve25519.Signing.PublicKey?
        var retired: Set<[UInt8]> = []
        for row in try Row.fetchAll(db, sql: "SELECT key_id, public_key, retired FROM device_key WHERE serial = ?", arguments: [serial]) {
            let keyID: Data = row["key_id"]
            if row["retired"] as Bool {
                retired.insert(Array(keyID))
            } else {
                current = try? Curve25519.Signing.PublicKey(rawRepresentation: row["public_key"] as Data)
            }
        }
        return DeviceKeys(current: current, retiredKeyIDs: retired, revoked: revoked)
    }
}
