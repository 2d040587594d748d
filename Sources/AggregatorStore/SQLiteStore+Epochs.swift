import Aggregator
import Crypto
import Foundation
import GRDB
import Wire

/// Signed epochs. A message counts in the Merkle tree of the epoch its
/// device timestamp falls in; one that arrives after that epoch was sealed
/// (a device back from a long outage) counts in the epoch it was received
/// in instead, so a sealed root never changes. Its tallies still go by
/// device time.
extension SQLiteStore {
    static func registerEpochMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-epochs") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN merkle_epoch INTEGER;
                UPDATE message SET merkle_epoch = epoch_start;
                CREATE INDEX message_merkle_epoch ON message (merkle_epoch, hash);
                CREATE TABLE epoch (
                    start INTEGER PRIMARY KEY NOT NULL,
                    id TEXT NOT NULL UNIQUE,
                    end INTEGER NOT NULL,
                    message_count INTEGER NOT NULL,
                    root BLOB NOT NULL,
                    signed BLOB NOT NULL,
                    aggregator_key BLOB NOT NULL,
                    sealed_at INTEGER NOT NULL
                );
                """)
        }
    }

    /// Epochs with messages whose end + grace has passed and that are not sealed yet.
    public func closableEpochs(now: Int64) async throws -> [Int64] {
        guard let last = calendar.lastClosable(at: now) else { return [] }
        return try await pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT DISTINCT merkle_epoch FROM message
                WHERE merkle_epoch <= ? AND merkle_epoch NOT IN (SELECT start FROM epoch) ORDER BY merkle_epoch
                """, arguments: [last])
        }
    }

    /// Seals an epoch: the Merkle root over its messages' sorted hashes,
    /// signed with `key`, stored, and the epoch's summary (root and tally
    /// digest) appended to the log in the same transaction. Returns the signed root to publish (nil
    /// when it was sealed already).
    public func seal(epochStart: Int64, key: Curve25519.Signing.PrivateKey, now: Int64) async throws -> (root: EpochRoot, signed: [UInt8])? {
        let calendar = calendar
        return try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM epoch WHERE start = ?)", arguments: [epochStart]) == true { return nil }
            let hashes = try Self.epochHashes(db, epochStart: epochStart)
            let root = EpochRoot(id: calendar.id(ofEpochStartingAt: epochStart), start: UInt64(epochStart),
                                 end: UInt64(calendar.end(ofEpochStartingAt: epochStart)), messageCount: UInt64(hashes.count),
                                 root: EpochTree.root(hashes.map(EpochTree.leafHash)), time: UInt64(now))
            let signed = try COSESign1.sign(payload: root.encode(), with: key, keyID: KeyID.of(key.publicKey))
            let tallies = try Row.fetchAll(db, sql: "SELECT serial, metric, unit, count, minimum, maximum FROM tally WHERE epoch_start = ?",
                                           arguments: [epochStart]).map { row in
                EpochSummaryEntry.Tally(serial: row["serial"], metric: row["metric"], unit: row["unit"],
                                        count: UInt64(clamping: row["count"] as Int64), minimum: row["minimum"], maximum: row["maximum"])
            }
            let summary = EpochSummaryEntry(epoch: root, logSize: try Self.logSize(db), tallies: tallies)
            try Self.appendRecordToLog(db, entry: try summary.signed(by: key))
            try db.execute(sql: """
                INSERT INTO epoch (start, id, end, message_count, root, signed, aggregator_key, sealed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [epochStart, root.id, Int64(root.end), hashes.count, Data(root.root), Data(signed),
                                 Data(key.publicKey.rawRepresentation), now])
            return (root, signed)
        }
    }

    /// The SHA-256 of every message in an epoch's Merkle tree, sorted.
    public func messageHashes(epochStart: Int64) async throws -> [[UInt8]] {
        try await pool.read { db in try Self.epochHashes(db, epochStart: epochStart) }
    }

    static func epochHashes(_ db: Database, epochStart: Int64) throws -> [[UInt8]] {
        try Data.fetchAll(db, sql: "SELECT hash FROM message WHERE merkle_epoch = ? ORDER BY hash", arguments: [epochStart]).map { Array($0) }
    }

    public func epochs() async throws -> [EpochSummary] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM epoch ORDER BY start").map(Self.epochSummary)
        }
    }

    public func epoch(id: String) async throws -> EpochSummary? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM epoch WHERE id = ?", arguments: [id]).map(Self.epochSummary)
        }
    }

    /// The signed root of a sealed epoch, as published.
    public func signedEpoch(id: String) throws -> [UInt8]? {
        try pool.read { db in try Data.fetchOne(db, sql: "SELECT signed FROM epoch WHERE id = ?", arguments: [id]).map { Array($0) } }
    }

    /// An inclusion proof for (serial, sequence) in sealed epoch `id`.
    public func proof(epoch id: String, serial: String, sequence: UInt64) async throws -> [UInt8]? {
        let found = try await pool.read { db -> (signed: [UInt8], raw: [UInt8], hash: [UInt8], hashes: [[UInt8]])? in
            guard let epoch = try Row.fetchOne(db, sql: "SELECT start, signed FROM epoch WHERE id = ?", arguments: [id]),
                  let message = try Row.fetchOne(db, sql: "SELECT raw, hash FROM message WHERE serial = ? AND sequence = ? AND merkle_epoch = ?",
                                                 arguments: [serial, Int64(bitPattern: sequence), epoch["start"] as Int64]) else { return nil }
            return (Array(epoch["signed"] as Data), Array(message["raw"] as Data), Array(message["hash"] as Data),
                    try Self.epochHashes(db, epochStart: epoch["start"]))
        }
        guard let found else { return nil }
        return try await StoredViews.proof(signedEpoch: found.signed, raw: found.raw, hash: found.hash, epochHashes: found.hashes) { keyID in
            try await self.pool.read { db in
                try Data.fetchOne(db, sql: "SELECT public_key FROM device_key WHERE serial = ? AND key_id = ?", arguments: [serial, Data(keyID)])
                    .map { Array($0) }
            }
        }
    }

    static func epochSummary(_ row: Row) -> EpochSummary {
        StoredViews.epochSummary(id: row["id"], start: row["start"], end: row["end"], messageCount: row["message_count"],
                                 root: Array(row["root"] as Data), signed: Array(row["signed"] as Data),
                                 aggregatorKey: Array(row["aggregator_key"] as Data))
    }
}
