import Aggregator
import Foundation
import PostgresNIO

/// Dead letters (see `SQLiteStore+DeadLetters`): messages the store could
/// not commit after `CommitBatcher`'s tries, kept whole with the error;
/// their sequences count as settled.
extension PostgresStore {
    static let deadLetterSchema = [
        """
        CREATE TABLE IF NOT EXISTS dead_letter (
            serial TEXT NOT NULL, sequence BIGINT NOT NULL, raw BYTEA NOT NULL, hash BYTEA NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL,
            tries BIGINT NOT NULL, PRIMARY KEY (serial, sequence))
        """,
        // Keeps the message (unless kept already), then moves the device's
        // highest contiguous over it like `fieldproof_commit` does (device
        // row locked by the upsert).
        """
        CREATE OR REPLACE FUNCTION fieldproof_dead_letter(
            p_serial TEXT, p_sequence BIGINT, p_floor BIGINT, p_raw BYTEA, p_hash BYTEA, p_error TEXT, p_at BIGINT, p_tries BIGINT)
        RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
            v_highest BIGINT;
        BEGIN
            INSERT INTO device AS d (serial) VALUES (p_serial)
                ON CONFLICT (serial) DO UPDATE SET serial = excluded.serial RETURNING d.highest_contiguous INTO v_highest;
            INSERT INTO dead_letter (serial, sequence, raw, hash, error, at, tries)
                VALUES (p_serial, p_sequence, p_raw, p_hash, p_error, p_at, p_tries) ON CONFLICT DO NOTHING;
            v_highest := GREATEST(v_highest, p_floor);
            WHILE v_highest < 9223372036854775807 AND (
                    EXISTS (SELECT 1 FROM message m WHERE m.serial = p_serial AND m.sequence = v_highest + 1)
                    OR EXISTS (SELECT 1 FROM dead_letter dl WHERE dl.serial = p_serial AND dl.sequence = v_highest + 1)) LOOP
                v_highest := v_highest + 1;
            END LOOP;
            UPDATE device d SET highest_contiguous = v_highest WHERE d.serial = p_serial;
            RETURN v_highest;
        END $$
        """,
    ]

    /// Before the commit functions returned an outcome (stored, duplicate,
    /// conflict) they returned `was_stored BOOLEAN`; `CREATE OR REPLACE`
    /// cannot change a function's result type, so the old ones are dropped
    /// once (inside the schema transaction, under its lock).
    static let dropOldCommitFunctions = """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_proc WHERE proname IN ('fieldproof_commit', 'fieldproof_commit_batch')
                       AND pg_get_function_result(oid) LIKE '%was_stored%') THEN
                DROP FUNCTION IF EXISTS fieldproof_commit_batch;
                DROP FUNCTION IF EXISTS fieldproof_commit;
            END IF;
        END $$
        """

    public func deadLetter(_ message: StoredMessage, error: String, tries: Int, at time: Int64) async throws -> CommitResult? {
        let rows = try await client.query("""
            SELECT fieldproof_dead_letter(\(message.serial), \(Int64(bitPattern: message.sequence)), \(Int64(clamping: message.floor)),
                \(ByteBuffer(bytes: message.raw)), \(ByteBuffer(bytes: message.hash)), \(String(error.prefix(2000))), \(time), \(Int64(clamping: tries)))
            """, logger: logger).collect()
        guard let highest = try rows.first?.decode(Int64.self) else { throw PostgresStoreError.noResult("fieldproof_dead_letter") }
        return CommitResult(.deadLettered, highestContiguous: UInt64(clamping: highest))
    }

    public func deadLetters(serial: String?, page: PageRequest<DeadLetterKey>) async throws -> Page<DeadLetter> {
        let afterSerial = page.after?.serial, afterSequence = page.after.map { Int64(clamping: $0.sequence) }
        let rows = try await client.query("""
            SELECT serial, sequence, raw, error, at, tries FROM dead_letter
            WHERE (\(serial == nil) OR serial = \(serial ?? ""))
              AND (\(afterSerial == nil) OR serial > \(afterSerial ?? "") OR (serial = \(afterSerial ?? "") AND sequence > \(afterSequence ?? 0)))
            ORDER BY serial, sequence LIMIT \(Int64(page.limit) + 1)
            """, logger: logger)
        var letters: [DeadLetter] = []
        for try await (serial, sequence, raw, error, at, tries) in rows.decode((String, Int64, Data, String, Int64, Int64).self) {
            letters.append(DeadLetter(serial: serial, sequence: UInt64(bitPattern: sequence), error: error, time: at, tries: Int(clamping: tries),
                                      raw: Array(raw)))
        }
        return Page(fetched: letters, limit: page.limit)
    }
}
