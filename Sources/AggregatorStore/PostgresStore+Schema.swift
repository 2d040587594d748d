import Crypto
import PostgresNIO

/// The PostgreSQL schema: tables, and the commit functions that keep a
/// commit to one round trip (the device row locked, the message inserted,
/// tallies and the highest contiguous sequence moved in one statement).
/// Created at start under an advisory lock, so aggregators starting together
/// do not race each other.
extension PostgresStore {
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS device (
            serial TEXT PRIMARY KEY, accepted BIGINT NOT NULL DEFAULT 0, first_seen BIGINT, last_seen BIGINT,
            highest_contiguous BIGINT NOT NULL DEFAULT 0, revoked BOOLEAN NOT NULL DEFAULT FALSE, board TEXT, paired_at BIGINT)
        """,
        // Redeliveries (a message stored already with the same bytes), apart
        // from rejections; earlier releases counted them as the rejection
        // duplicate_sequence, moved here once.
        "ALTER TABLE device ADD COLUMN IF NOT EXISTS redelivered BIGINT NOT NULL DEFAULT 0",
        """
        CREATE TABLE IF NOT EXISTS message (
            serial TEXT NOT NULL, sequence BIGINT NOT NULL, raw BYTEA NOT NULL, hash BYTEA NOT NULL, device_time BIGINT NOT NULL,
            received_at BIGINT NOT NULL, epoch_start BIGINT NOT NULL, merkle_epoch BIGINT NOT NULL, PRIMARY KEY (serial, sequence))
        """,
        "CREATE INDEX IF NOT EXISTS message_merkle_epoch ON message (merkle_epoch, hash)",
        "CREATE INDEX IF NOT EXISTS message_received ON message (received_at)",
        """
        CREATE TABLE IF NOT EXISTS tally (
            serial TEXT NOT NULL, metric TEXT NOT NULL, epoch_start BIGINT NOT NULL, unit TEXT NOT NULL, count BIGINT NOT NULL,
            minimum DOUBLE PRECISION NOT NULL, maximum DOUBLE PRECISION NOT NULL, sum DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (serial, metric, epoch_start))
        """,
        "CREATE TABLE IF NOT EXISTS rejection (serial TEXT NOT NULL, reason TEXT NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (serial, reason))",
        "CREATE TABLE IF NOT EXISTS rejection_minute (minute BIGINT PRIMARY KEY, count BIGINT NOT NULL)",
        """
        UPDATE device d SET redelivered = d.redelivered + r.count FROM rejection r WHERE r.serial = d.serial AND r.reason = 'duplicate_sequence'
        """,
        "DELETE FROM rejection WHERE reason = 'duplicate_sequence'",
        """
        CREATE TABLE IF NOT EXISTS device_key (
            serial TEXT NOT NULL, key_id BYTEA NOT NULL, public_key BYTEA NOT NULL, bound_at BIGINT NOT NULL,
            retired BOOLEAN NOT NULL DEFAULT FALSE, PRIMARY KEY (serial, key_id))
        """,
        """
        CREATE TABLE IF NOT EXISTS enrollment (
            serial TEXT PRIMARY KEY, verifier BYTEA NOT NULL, kdf_log_n BIGINT NOT NULL, kdf_r BIGINT NOT NULL, kdf_p BIGINT NOT NULL,
            expires_at BIGINT NOT NULL, attempts_left BIGINT NOT NULL, used BOOLEAN NOT NULL, seen_nonces BYTEA NOT NULL, created_at BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS device_sensor (
            serial TEXT NOT NULL, name TEXT NOT NULL, driver TEXT NOT NULL, interval_ms BIGINT NOT NULL, PRIMARY KEY (serial, name))
        """,
        """
        CREATE TABLE IF NOT EXISTS epoch (
            start BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, end_ms BIGINT NOT NULL, message_count BIGINT NOT NULL, root BYTEA NOT NULL,
            signed BYTEA NOT NULL, aggregator_key BYTEA NOT NULL, sealed_at BIGINT NOT NULL)
        """,
    ]

    /// Re-timing (`MessageTiming`): boot anchors, readings waiting for one,
    /// and which messages were re-timed or still wait.
    static let retimingSchema = [
        """
        ALTER TABLE message ADD COLUMN IF NOT EXISTS boot_id BYTEA, ADD COLUMN IF NOT EXISTS ms_since_boot BIGINT,
            ADD COLUMN IF NOT EXISTS retimed BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN IF NOT EXISTS untimed BOOLEAN NOT NULL DEFAULT FALSE
        """,
        "CREATE INDEX IF NOT EXISTS message_untimed ON message (serial, boot_id) WHERE untimed",
        "CREATE INDEX IF NOT EXISTS message_retimed ON message (serial) WHERE retimed",
        "CREATE TABLE IF NOT EXISTS boot (serial TEXT NOT NULL, boot_id BYTEA NOT NULL, anchor BIGINT NOT NULL, PRIMARY KEY (serial, boot_id))",
        """
        CREATE TABLE IF NOT EXISTS untimed_reading (
            serial TEXT NOT NULL, boot_id BYTEA NOT NULL, sequence BIGINT NOT NULL, ms_since_boot BIGINT NOT NULL, metric TEXT NOT NULL,
            unit TEXT NOT NULL, value DOUBLE PRECISION NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS untimed_reading_boot ON untimed_reading (serial, boot_id)",
        // EpochCalendar.start(of:) in SQL.
        """
        CREATE OR REPLACE FUNCTION fieldproof_epoch(t BIGINT, len BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE
            AS $$ SELECT t - ((t % len) + len) % len $$
        """,
    ]

    /// One accepted message committed in one statement (one round trip):
    /// the device row locked (by the upsert), the message timed
    /// (`MessageTiming`: the device's clock, or its boot's anchor + ms since
    /// boot, or untimed until the boot is anchored), the epoch's advisory
    /// lock held shared (a sealed epoch sends the message to the one it
    /// arrived in), the message inserted unless already there, its readings
    /// summed into the tallies (or held while untimed), the boot anchored by
    /// its first synchronised message (re-timing what waited), the highest
    /// contiguous sequence moved, the device's counters updated. Returns
    /// the outcome (`stored`; `duplicate`: the same bytes are stored, or the
    /// sequence was dead-lettered; `conflict`: other bytes are stored under
    /// it, nothing changes) and the new highest, which also moves over
    /// dead-lettered sequences and stops at the largest BIGINT instead of
    /// raising "bigint out of range".
    static let commitFunction = """
        CREATE OR REPLACE FUNCTION fieldproof_commit(
            p_serial TEXT, p_sequence BIGINT, p_floor BIGINT, p_raw BYTEA, p_hash BYTEA, p_device_time BIGINT, p_received_at BIGINT,
            p_epoch_length BIGINT, p_synchronised BOOLEAN, p_boot_id BYTEA, p_ms_since_boot BIGINT,
            p_metrics TEXT[], p_units TEXT[], p_values DOUBLE PRECISION[])
        RETURNS TABLE (outcome TEXT, new_highest BIGINT) LANGUAGE plpgsql AS $$
        DECLARE
            v_outcome TEXT := 'stored';
            v_highest BIGINT;
            v_anchor BIGINT;
            v_time BIGINT := p_device_time;
            v_retimed BOOLEAN := FALSE;
            v_untimed BOOLEAN := FALSE;
            v_epoch BIGINT;
            v_merkle BIGINT;
            v_stored BOOLEAN;
        BEGIN
            INSERT INTO device AS d (serial) VALUES (p_serial)
                ON CONFLICT (serial) DO UPDATE SET serial = excluded.serial RETURNING d.highest_contiguous INTO v_highest;
            SELECT b.anchor INTO v_anchor FROM boot b WHERE b.serial = p_serial AND b.boot_id = p_boot_id;
            IF NOT p_synchronised THEN
                IF v_anchor IS NOT NULL THEN
                    v_time := v_anchor + p_ms_since_boot;
                    v_retimed := TRUE;
                ELSE
                    v_untimed := TRUE;
                END IF;
            END IF;
            v_epoch := fieldproof_epoch(CASE WHEN v_untimed THEN p_received_at ELSE v_time END, p_epoch_length);
            v_merkle := v_epoch;
            PERFORM pg_advisory_xact_lock_shared(v_epoch);
            IF EXISTS (SELECT 1 FROM epoch e WHERE e.start = v_epoch) THEN
                v_merkle := fieldproof_epoch(p_received_at, p_epoch_length);
                PERFORM pg_advisory_xact_lock_shared(v_merkle);
            END IF;
            IF EXISTS (SELECT 1 FROM dead_letter dl WHERE dl.serial = p_serial AND dl.sequence = p_sequence) THEN
                v_stored := FALSE;
                v_outcome := 'duplicate';
            ELSE
                INSERT INTO message (serial, sequence, raw, hash, device_time, received_at, epoch_start, merkle_epoch, boot_id, ms_since_boot,
                                     retimed, untimed)
                    VALUES (p_serial, p_sequence, p_raw, p_hash, v_time, p_received_at, v_epoch, v_merkle, p_boot_id, p_ms_since_boot,
                            v_retimed, v_untimed)
                    ON CONFLICT DO NOTHING;
                v_stored := FOUND;
                IF NOT v_stored THEN
                    v_outcome := CASE WHEN EXISTS (SELECT 1 FROM message m WHERE m.serial = p_serial AND m.sequence = p_sequence
                                                   AND m.hash = p_hash) THEN 'duplicate' ELSE 'conflict' END;
                END IF;
            END IF;
            IF v_stored THEN
                IF v_untimed THEN
                    INSERT INTO untimed_reading (serial, boot_id, sequence, ms_since_boot, metric, unit, value)
                        SELECT p_serial, p_boot_id, p_sequence, p_ms_since_boot, r.m, r.u, r.v FROM unnest(p_metrics, p_units, p_values) AS r(m, u, v);
                ELSE
                    INSERT INTO tally AS t (serial, metric, epoch_start, unit, count, minimum, maximum, sum)
                        SELECT p_serial, r.m, v_epoch, min(r.u), count(*), min(r.v), max(r.v), sum(r.v)
                        FROM unnest(p_metrics, p_units, p_values) AS r(m, u, v) GROUP BY r.m
                        ON CONFLICT (serial, metric, epoch_start) DO UPDATE SET count = t.count + excluded.count,
                            minimum = LEAST(t.minimum, excluded.minimum), maximum = GREATEST(t.maximum, excluded.maximum),
                            sum = t.sum + excluded.sum;
                END IF;
                -- A boot before 1970 (ms since boot above the timestamp) is not anchored (see SQLiteCommitBatch).
                IF p_synchronised AND v_anchor IS NULL AND p_device_time - p_ms_since_boot >= 0 THEN
                    v_anchor := p_device_time - p_ms_since_boot;
                    INSERT INTO boot (serial, boot_id, anchor) VALUES (p_serial, p_boot_id, v_anchor) ON CONFLICT DO NOTHING;
                    INSERT INTO tally AS t (serial, metric, epoch_start, unit, count, minimum, maximum, sum)
                        SELECT p_serial, u.metric, fieldproof_epoch(v_anchor + u.ms_since_boot, p_epoch_length), min(u.unit), count(*),
                               min(u.value), max(u.value), sum(u.value)
                        FROM untimed_reading u WHERE u.serial = p_serial AND u.boot_id = p_boot_id
                        GROUP BY u.metric, fieldproof_epoch(v_anchor + u.ms_since_boot, p_epoch_length)
                        ON CONFLICT (serial, metric, epoch_start) DO UPDATE SET count = t.count + excluded.count,
                            minimum = LEAST(t.minimum, excluded.minimum), maximum = GREATEST(t.maximum, excluded.maximum),
                            sum = t.sum + excluded.sum;
                    DELETE FROM untimed_reading u WHERE u.serial = p_serial AND u.boot_id = p_boot_id;
                    UPDATE message m SET device_time = v_anchor + m.ms_since_boot,
                        epoch_start = fieldproof_epoch(v_anchor + m.ms_since_boot, p_epoch_length), retimed = TRUE, untimed = FALSE
                        WHERE m.serial = p_serial AND m.boot_id = p_boot_id AND m.untimed;
                END IF;
                v_highest := GREATEST(v_highest, p_floor);
            END IF;
            WHILE v_highest < 9223372036854775807 AND (
                    EXISTS (SELECT 1 FROM message m WHERE m.serial = p_serial AND m.sequence = v_highest + 1)
                    OR EXISTS (SELECT 1 FROM dead_letter dl WHERE dl.serial = p_serial AND dl.sequence = v_highest + 1)) LOOP
                v_highest := v_highest + 1;
            END LOOP;
            UPDATE device d SET highest_contiguous = v_highest,
                accepted = d.accepted + CASE WHEN v_stored THEN 1 ELSE 0 END,
                redelivered = d.redelivered + CASE WHEN v_outcome = 'duplicate' THEN 1 ELSE 0 END,
                first_seen = CASE WHEN v_stored THEN LEAST(COALESCE(d.first_seen, p_received_at), p_received_at) ELSE d.first_seen END,
                last_seen = CASE WHEN v_stored THEN GREATEST(COALESCE(d.last_seen, 0), p_received_at) ELSE d.last_seen END
                WHERE d.serial = p_serial;
            RETURN QUERY SELECT v_outcome, v_highest;
        END $$
        """

    /// A batch in one round trip: the messages' fields as parallel arrays
    /// (readings flattened, `p_reading_counts` says how many are whose),
    /// committed one after another in the order given, one result each.
    static let commitBatchFunction = """
        CREATE OR REPLACE FUNCTION fieldproof_commit_batch(
            p_serials TEXT[], p_sequences BIGINT[], p_floors BIGINT[], p_raws BYTEA[], p_hashes BYTEA[], p_device_times BIGINT[],
            p_received_ats BIGINT[], p_epoch_length BIGINT, p_synchronised BOOLEAN[], p_boot_ids BYTEA[], p_ms_since_boots BIGINT[],
            p_reading_counts BIGINT[], p_metrics TEXT[], p_units TEXT[], p_values DOUBLE PRECISION[])
        RETURNS TABLE (outcome TEXT, new_highest BIGINT) LANGUAGE plpgsql AS $$
        DECLARE
            v_offset BIGINT := 0;
            v_count BIGINT;
            v_outcome TEXT;
            v_highest BIGINT;
            v_stored INTEGER[] := '{}';
        BEGIN
            FOR i IN 1 .. coalesce(array_length(p_serials, 1), 0) LOOP
                v_count := p_reading_counts[i];
                SELECT c.outcome, c.new_highest INTO v_outcome, v_highest FROM fieldproof_commit(p_serials[i], p_sequences[i], p_floors[i], p_raws[i],
                    p_hashes[i], p_device_times[i], p_received_ats[i], p_epoch_length, p_synchronised[i], p_boot_ids[i], p_ms_since_boots[i],
                    coalesce(p_metrics[v_offset + 1 : v_offset + v_count], '{}'), coalesce(p_units[v_offset + 1 : v_offset + v_count], '{}'),
                    coalesce(p_values[v_offset + 1 : v_offset + v_count], '{}')) AS c;
                IF v_outcome = 'stored' THEN v_stored := v_stored || i; END IF;
                RETURN QUERY SELECT v_outcome, v_highest;
                v_offset := v_offset + v_count;
            END LOOP;
            -- The transparency log last: its lock (one integrator at a time) is
            -- then held only from here to the commit, not through the batch.
            PERFORM fieldproof_log_append_batch(
                array(SELECT p_raws[k] FROM unnest(v_stored) WITH ORDINALITY AS s(k, n) ORDER BY n),
                array(SELECT p_serials[k] FROM unnest(v_stored) WITH ORDINALITY AS s(k, n) ORDER BY n),
                array(SELECT p_sequences[k] FROM unnest(v_stored) WITH ORDINALITY AS s(k, n) ORDER BY n));
        END $$
        """

    /// Advisory lock ids: one for schema creation, and per epoch (by its start).
    static let schemaLock: Int64 = 0x4650_5343_4845_4D41

    static var schemaStatements: [String] {
        schema + retimingSchema + pairingSchema + deadLetterSchema + logSchema + [dropOldCommitFunctions, commitFunction, commitBatchFunction]
    }

    /// What the statements are, so a database set up by this release is
    /// not set up again.
    static var schemaDigest: String {
        SHA256.hash(data: Array(schemaStatements.joined(separator: "\u{0}").utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Sets the schema up unless this release already did. The statements are
    /// idempotent, but an `ALTER TABLE … ADD COLUMN IF NOT EXISTS` or `CREATE
    /// INDEX IF NOT EXISTS` still takes its table's lock: run at every start
    /// they deadlocked with an aggregator already committing on the same
    /// database (ScaleOutTests: three aggregators starting together).
    func createSchema() async throws {
        try await client.withTransaction(logger: logger) { connection in
            // Several aggregators start at once: one creates, the others wait.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS fieldproof_schema (id INTEGER PRIMARY KEY, digest TEXT NOT NULL)", logger: logger)
            let digest = Self.schemaDigest
            let rows = try await connection.query("SELECT digest FROM fieldproof_schema WHERE id = 1", logger: logger)
            for try await held in rows.decode(String.self) where held == digest { return }
            for statement in Self.schemaStatements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await Self.fillLogRecordSerials(connection, logger: logger)
            try await connection.query("""
                INSERT INTO fieldproof_schema (id, digest) VALUES (1, \(digest)) ON CONFLICT (id) DO UPDATE SET digest = excluded.digest
                """, logger: logger)
        }
    }
}
