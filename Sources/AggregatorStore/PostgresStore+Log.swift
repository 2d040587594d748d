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
        // A message's entry row: where it is in the log, and the hashes its
        // append added (`EntryHashes`). Its index is known only under the
        // log's lock, taken after the batch's message rows are written, so
        // it is not a column of the message row as in SQLite.
        """
        CREATE TABLE IF NOT EXISTS log_entry (idx BIGINT PRIMARY KEY, serial TEXT NOT NULL, sequence BIGINT NOT NULL)
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS log_entry_message ON log_entry (serial, sequence)",
        "CREATE TABLE IF NOT EXISTS log_record (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL)",
        // Which device a key event is about ('' for the other records; NULL
        // only for records logged before the column, filled in at startup).
        "ALTER TABLE log_record ADD COLUMN IF NOT EXISTS serial TEXT",
        "CREATE INDEX IF NOT EXISTS log_record_serial ON log_record (serial, idx)",
        "ALTER TABLE log_entry ADD COLUMN IF NOT EXISTS hashes BYTEA",
        "ALTER TABLE log_record ADD COLUMN IF NOT EXISTS hashes BYTEA",
        // Earlier releases kept one log_hash row per hash: each goes to the
        // entry that added it, (idx + 1)·2^level − 1, in level order.
        """
        DO $$ BEGIN
            IF to_regclass('log_hash') IS NOT NULL THEN
                CREATE TEMPORARY TABLE log_added ON COMMIT DROP AS
                    SELECT ((h.idx + 1) << h.level) - 1 AS entry, string_agg(h.hash, ''::bytea ORDER BY h.level) AS hashes
                    FROM log_hash h GROUP BY 1;
                UPDATE log_entry e SET hashes = a.hashes FROM log_added a WHERE a.entry = e.idx;
                UPDATE log_record r SET hashes = a.hashes FROM log_added a WHERE a.entry = r.idx;
                DROP TABLE log_hash;
            END IF;
        END $$
        """,
        "DROP FUNCTION IF EXISTS fieldproof_log_hash(BYTEA)",
        // The log's size: its last entry is a message or a record.
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_size() RETURNS BIGINT LANGUAGE sql STABLE AS $$
            SELECT greatest(coalesce((SELECT max(idx) FROM log_entry), -1), coalesce((SELECT max(idx) FROM log_record), -1)) + 1
        $$
        """,
        // Appends entries, in order, under the log's lock (one integrator at
        // a time): reads the frontier (for each set bit L of the size, the
        // complete subtree at level L that ends the log), then computes, as
        // TransparencyLog's LogAppender does with RFC 6962 (leaf SHA-256(0x00
        // || entry), node SHA-256(0x01 || left || right)), each entry's index
        // and the hashes its append adds, leaf first. The caller writes them.
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_extend(p_entries BYTEA[]) RETURNS TABLE (entry_idx BIGINT, entry_hashes BYTEA)
        LANGUAGE plpgsql AS $$
        DECLARE
            v_size BIGINT;
            v_rest BIGINT;
            v_position BIGINT;
            v_level INTEGER;
            v_last BIGINT;
            v_hash BYTEA;
            v_added BYTEA;
            v_frontier BYTEA[] := '{}';
            v_levels INTEGER[] := '{}';
            v_lasts BIGINT[] := '{}';
        BEGIN
            PERFORM pg_advisory_xact_lock(\(logLock));
            v_size := fieldproof_log_size();
            v_rest := v_size;
            v_level := 0;
            WHILE v_rest > 0 LOOP
                IF v_rest % 2 = 1 THEN
                    v_levels := v_levels || v_level;
                    v_lasts := v_lasts || ((v_size >> v_level) << v_level) - 1;
                END IF;
                v_rest := v_rest / 2;
                v_level := v_level + 1;
            END LOOP;
            -- The frontier's rows in one query (a statement each cost as much as the appends).
            FOR v_level, v_last, v_hash IN
                SELECT f.level, f.last, substring(s.hashes FROM f.level * 32 + 1 FOR 32)
                FROM unnest(v_levels, v_lasts) AS f(level, last)
                LEFT JOIN (SELECT e.idx, e.hashes FROM log_entry e WHERE e.idx = ANY(v_lasts)
                           UNION ALL SELECT r.idx, r.hashes FROM log_record r WHERE r.idx = ANY(v_lasts)) s ON s.idx = f.last LOOP
                IF octet_length(v_hash) IS DISTINCT FROM 32 THEN
                    RAISE EXCEPTION 'the transparency log is missing its stored hash at level % of entry %', v_level, v_last;
                END IF;
                v_frontier[v_level + 1] := v_hash;
            END LOOP;
            FOR i IN 1 .. coalesce(array_length(p_entries, 1), 0) LOOP
                v_hash := sha256('\\x00'::bytea || p_entries[i]);
                v_added := v_hash;
                v_position := v_size;
                v_level := 0;
                WHILE v_position % 2 = 1 LOOP
                    v_hash := sha256('\\x01'::bytea || v_frontier[v_level + 1] || v_hash);
                    v_frontier[v_level + 1] := NULL;
                    v_level := v_level + 1;
                    v_position := v_position / 2;
                    v_added := v_added || v_hash;
                END LOOP;
                v_frontier[v_level + 1] := v_hash;
                entry_idx := v_size;
                entry_hashes := v_added;
                RETURN NEXT;
                v_size := v_size + 1;
            END LOOP;
        END $$
        """,
        // A commit's stored messages (their bytes stay in the message table), in order.
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_append_batch(p_entries BYTEA[], p_serials TEXT[], p_sequences BIGINT[])
        RETURNS VOID LANGUAGE plpgsql AS $$
        BEGIN
            IF coalesce(array_length(p_entries, 1), 0) = 0 THEN RETURN; END IF;
            INSERT INTO log_entry (idx, serial, sequence, hashes)
                SELECT x.entry_idx, u.serial, u.sequence, x.entry_hashes
                FROM fieldproof_log_extend(p_entries) WITH ORDINALITY AS x(entry_idx, entry_hashes, n)
                JOIN unnest(p_serials, p_sequences) WITH ORDINALITY AS u(serial, sequence, n) USING (n);
        END $$
        """,
        // An entry the aggregator wrote (key event, epoch summary), kept
        // whole. (The one-argument version of earlier releases is unused.)
        """
        CREATE OR REPLACE FUNCTION fieldproof_log_append_record(p_entry BYTEA, p_serial TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO log_record (idx, entry, serial, hashes)
                SELECT x.entry_idx, p_entry, p_serial, x.entry_hashes FROM fieldproof_log_extend(ARRAY[p_entry]) AS x;
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

    public func logEntryHashes(_ entries: Set<UInt64>) async throws -> [UInt64: [UInt8]] {
        guard !entries.isEmpty else { return [:] }
        let wanted = entries.map { Int64(clamping: $0) }
        let rows = try await client.query("""
            SELECT idx, hashes FROM log_entry WHERE idx = ANY(\(wanted)) AND hashes IS NOT NULL
            UNION ALL SELECT idx, hashes FROM log_record WHERE idx = ANY(\(wanted)) AND hashes IS NOT NULL
            """, logger: logger)
        var found: [UInt64: [UInt8]] = [:]
        for try await (index, bytes) in rows.decode((Int64, ByteBuffer).self) { found[UInt64(index)] = Array(buffer: bytes) }
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

    /// Entries in the log, in the caller's transaction.
    static func logSize(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        var size: UInt64 = 0
        let rows = try await connection.query("SELECT fieldproof_log_size()", logger: logger)
        for try await value in rows.decode(Int64.self) { size = UInt64(clamping: value) }
        return size
    }
}
