import Foundation
import Logging
import PostgresNIO
import TransparencyLog
import Wire

/// The transparency log in PostgreSQL (issue 16), as in SQLite: each stored
/// message is appended inside `fieldproof_commit`, in the commit's own
/// transaction. Several aggregators share one database and one log: the
/// append takes a transaction-scoped advisory lock, so one integrator
/// extends the log at a time and entries follow commit order.
extension PostgresStore {
    /// The log's advisory lock id ("FPLOG"); far from the epoch starts
    /// (milliseconds) the epoch locks use.
    static let logLock: Int64 = 0x4650_4C4F_4700_0000

    static let logSchema = [
        """
        CREATE TABLE IF NOT EXISTS log_entry (idx BIGINT PRIMARY KEY, serial TEXT NOT NULL, sequence BIGINT NOT NULL)
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS log_entry_message ON log_entry (serial, sequence)",
        """
        CREATE TABLE IF NOT EXISTS log_hash (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx))
        """,
        "CREATE TABLE IF NOT EXISTS log_record (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL)",
        // Which device a key event is about ('' for the other records; NULL
        // only for records logged before the column, filled in at startup).
        "ALTER TABLE log_record ADD COLUMN IF NOT EXISTS serial TEXT",
        "CREATE INDEX IF NOT EXISTS log_record_serial ON log_record (serial, idx)",
        // RFC 6962: leaf SHA-256(0x00 || entry), node SHA-256(0x01 || left || right);
        // each completed subtree's hash is stored (TransparencyLog.LogAppender does the same in Swift).
        // Returns the entry's index; every entry has its leaf hash at level 0.
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_hash(p_entry BYTEA) RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            v_index BIGINT;
            v_position BIGINT;
            v_level INTEGER := 0;
            v_hash BYTEA;
            v_sibling BYTEA;
        BEGIN
            PERFORM pg_advisory_xact_lock(\(logLock));
            SELECT COALESCE(MAX(idx) + 1, 0) INTO v_index FROM log_hash WHERE level = 0;
            v_hash := sha256('\\x00'::bytea || p_entry);
            INSERT INTO log_hash (level, idx, hash) VALUES (0, v_index, v_hash);
            v_position := v_index;
            WHILE v_position % 2 = 1 LOOP
                SELECT h.hash INTO STRICT v_sibling FROM log_hash h WHERE h.level = v_level AND h.idx = v_position - 1;
                v_hash := sha256('\\x01'::bytea || v_sibling || v_hash);
                v_level := v_level + 1;
                v_position := v_position / 2;
                INSERT INTO log_hash (level, idx, hash) VALUES (v_level, v_position, v_hash);
            END LOOP;
            RETURN v_index;
        END $$
        """,
        // A commit's stored messages (their bytes stay in the message table),
        // in order, in one go: the lock and the log's frontier are taken
        // once, the hashes are computed in memory (as TransparencyLog's
        // LogAppender does) and inserted together. Appending one message at a
        // time (fieldproof_log_hash per message, as records still are) read a
        // sibling hash and ran two or three inserts per message.
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_append_batch(p_entries BYTEA[], p_serials TEXT[], p_sequences BIGINT[])
        RETURNS VOID LANGUAGE plpgsql AS $$
        DECLARE
            v_start BIGINT;
            v_size BIGINT;
            v_rest BIGINT;
            v_position BIGINT;
            v_level INTEGER;
            v_hash BYTEA;
            v_frontier BYTEA[] := '{}';
            v_levels INTEGER[] := '{}';
            v_indexes BIGINT[] := '{}';
            v_hashes BYTEA[] := '{}';
            v_count INTEGER := 0;
        BEGIN
            IF coalesce(array_length(p_entries, 1), 0) = 0 THEN RETURN; END IF;
            PERFORM pg_advisory_xact_lock(\(logLock));
            SELECT COALESCE(MAX(idx) + 1, 0) INTO v_start FROM log_hash WHERE level = 0;
            -- The frontier: for each set bit L of the size, the complete subtree
            -- at level L that ends the log (index size / 2^L - 1).
            v_rest := v_start;
            v_level := 0;
            WHILE v_rest > 0 LOOP
                IF v_rest % 2 = 1 THEN
                    SELECT h.hash INTO STRICT v_hash FROM log_hash h WHERE h.level = v_level AND h.idx = (v_start >> v_level) - 1;
                    v_frontier[v_level + 1] := v_hash;
                END IF;
                v_rest := v_rest / 2;
                v_level := v_level + 1;
            END LOOP;
            v_size := v_start;
            FOR i IN 1 .. array_length(p_entries, 1) LOOP
                v_hash := sha256('\\x00'::bytea || p_entries[i]);
                v_position := v_size;
                v_level := 0;
                v_count := v_count + 1;
                v_levels[v_count] := 0; v_indexes[v_count] := v_position; v_hashes[v_count] := v_hash;
                WHILE v_position % 2 = 1 LOOP
                    v_hash := sha256('\\x01'::bytea || v_frontier[v_level + 1] || v_hash);
                    v_frontier[v_level + 1] := NULL;
                    v_level := v_level + 1;
                    v_position := v_position / 2;
                    v_count := v_count + 1;
                    v_levels[v_count] := v_level; v_indexes[v_count] := v_position; v_hashes[v_count] := v_hash;
                END LOOP;
                v_frontier[v_level + 1] := v_hash;
                v_size := v_size + 1;
            END LOOP;
            INSERT INTO log_hash (level, idx, hash) SELECT * FROM unnest(v_levels, v_indexes, v_hashes);
            INSERT INTO log_entry (idx, serial, sequence)
                SELECT v_start + u.n - 1, u.serial, u.sequence FROM unnest(p_serials, p_sequences) WITH ORDINALITY AS u(serial, sequence, n);
        END $$
        """,
        // An entry the aggregator wrote (key event, epoch summary), kept
        // whole. (The one-argument version of earlier releases is unused.)
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_append_record(p_entry BYTEA, p_serial TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO log_record (idx, entry, serial) VALUES (fieldproof_log_hash(p_entry), p_entry, p_serial);
        END $$
        """,
    ]

    /// Appends an entry the aggregator wrote (a key event about `serial`,
    /// or an epoch summary), in the caller's transaction.
    static func appendRecordToLog(_ connection: PostgresConnection, entry: [UInt8], about serial: String? = nil, logger: Logger) async throws {
        try await connection.query("SELECT fieldproof_log_append_record(\(Data(entry)), \(serial ?? ""))", logger: logger)
    }

    /// Fills in the serial of records logged before the column existed, in
    /// the schema's transaction.
    static func fillLogRecordSerials(_ connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query("SELECT idx, entry FROM log_record WHERE serial IS NULL", logger: logger)
        var filled: [(Int64, String)] = []
        for try await (index, entry) in rows.decode((Int64, ByteBuffer).self) {
            filled.append((index, KeyEvent.serial(ofLogged: Array(buffer: entry)) ?? ""))
        }
        for (index, serial) in filled {
            try await connection.query("UPDATE log_record SET serial = \(serial) WHERE idx = \(index)", logger: logger)
        }
    }

    public func logReceiptEntries(serial: String, upTo sequence: UInt64, below size: UInt64) async throws
        -> (message: LoggedMessage?, keyEvent: LoggedEntry?) {
        // One round trip: the message row (kind 0), then the key event (kind 1).
        let rows = try await client.query("""
            (SELECT 0, e.sequence, e.idx, m.raw FROM log_entry e JOIN message m ON m.serial = e.serial AND m.sequence = e.sequence
             WHERE e.serial = \(serial) AND e.sequence <= \(Int64(clamping: sequence)) AND e.idx < \(Int64(clamping: size))
             ORDER BY e.sequence DESC LIMIT 1)
            UNION ALL
            (SELECT 1, 0, idx, entry FROM log_record WHERE serial = \(serial) AND idx < \(Int64(clamping: size)) ORDER BY idx DESC LIMIT 1)
            """, logger: logger)
        var message: LoggedMessage?, keyEvent: LoggedEntry?
        for try await (kind, sequence, index, bytes) in rows.decode((Int32, Int64, Int64, ByteBuffer).self) {
            let entry = LoggedEntry(index: UInt64(index), bytes: Array(buffer: bytes))
            if kind == 0 { message = LoggedMessage(sequence: UInt64(sequence), entry: entry) } else { keyEvent = entry }
        }
        return (message, keyEvent)
    }

    public func logHashes(level: Int, from start: UInt64, count: Int) async throws -> [MerkleHash] {
        var hashes: [MerkleHash] = []
        let end = Int64(start) + Int64(count)
        let rows = try await client.query("SELECT hash FROM log_hash WHERE level = \(level) AND idx >= \(Int64(start)) AND idx < \(end) ORDER BY idx",
                                          logger: logger)
        for try await bytes in rows.decode(ByteBuffer.self) {
            if let hash = MerkleHash(bytes: Array(buffer: bytes)) { hashes.append(hash) }
        }
        return hashes
    }

    public func logHashes(at positions: Set<StoredPosition>) async throws -> [StoredPosition: MerkleHash] {
        guard !positions.isEmpty else { return [:] }
        let wanted = Array(positions)
        let rows = try await client.query("""
            SELECT h.level, h.idx, h.hash FROM unnest(\(wanted.map { Int32(clamping: $0.level) }), \(wanted.map { Int64(clamping: $0.index) }))
                AS w(level, idx) JOIN log_hash h ON h.level = w.level AND h.idx = w.idx
            """, logger: logger)
        var found: [StoredPosition: MerkleHash] = [:]
        for try await (level, index, bytes) in rows.decode((Int32, Int64, ByteBuffer).self) {
            if let hash = MerkleHash(bytes: Array(buffer: bytes)) { found[StoredPosition(level: Int(level), index: UInt64(index))] = hash }
        }
        return found
    }

    public func logEntries(from start: UInt64, count: Int) async throws -> [[UInt8]] {
        var entries: [[UInt8]] = []
        let end = Int64(start) + Int64(count)
        let rows = try await client.query("""
            SELECT e.idx, m.raw FROM log_entry e JOIN message m ON m.serial = e.serial AND m.sequence = e.sequence
            WHERE e.idx >= \(Int64(start)) AND e.idx < \(end)
            UNION ALL SELECT idx, entry FROM log_record WHERE idx >= \(Int64(start)) AND idx < \(end)
            ORDER BY 1
            """, logger: logger)
        for try await (_, bytes) in rows.decode((Int64, ByteBuffer).self) { entries.append(Array(buffer: bytes)) }
        return entries
    }

    public func logIndex(serial: String, sequence: UInt64) async throws -> UInt64? {
        var index: UInt64?
        let rows = try await client.query("SELECT idx FROM log_entry WHERE serial = \(serial) AND sequence = \(Int64(bitPattern: sequence))",
                                          logger: logger)
        for try await value in rows.decode(Int64.self) { index = UInt64(value) }
        return index
    }

    public func logSize() async throws -> UInt64 {
        let logger = logger
        return try await client.withConnection { connection in try await Self.logSize(connection, logger: logger) }
    }

    /// Entries in the log, in the caller's transaction: every entry, message
    /// or record, has its leaf hash at level 0.
    static func logSize(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        var size: UInt64 = 0
        let rows = try await connection.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM log_hash WHERE level = 0", logger: logger)
        for try await value in rows.decode(Int64.self) { size = UInt64(clamping: value) }
        return size
    }
}
