import Aggregator
import Foundation
import PostgresNIO
import Wire
import LinuxService

/// The API's and dashboard's queries answered from PostgreSQL (the shaping
/// is `StoredViews`, shared with the SQLite store).
extension PostgresStore {
    public func devices() async throws -> [DeviceSummary] {
        var summaries: [DeviceSummary] = []
        for row in try await client.query("SELECT serial FROM device ORDER BY serial", logger: logger).collect() {
            if let summary = try await summary(serial: try row.decode(String.self)) { summaries.append(summary) }
        }
        return summaries
    }

    public func devices(page: PageRequest<String>) async throws -> Page<DeviceSummary> {
        var summaries: [DeviceSummary] = []
        for row in try await client.query("""
            SELECT serial FROM device WHERE \(page.after == nil) OR serial > \(page.after ?? "") ORDER BY serial LIMIT \(Int64(page.limit) + 1)
            """, logger: logger).collect() {
            if let summary = try await summary(serial: try row.decode(String.self)) { summaries.append(summary) }
        }
        return Page(fetched: summaries, limit: page.limit)
    }

    /// With the data-quality score of its latest closed epoch (the list
    /// leaves it out: it decodes that epoch's messages).
    public func device(serial: String) async throws -> DeviceSummary? {
        guard var summary = try await summary(serial: serial) else { return nil }
        summary.quality = try await quality(serial: serial, epochStart: nil, now: Int64(WallClock.milliseconds()))?.score
        return summary
    }

    func summary(serial: String) async throws -> DeviceSummary? {
        guard let row = try await client.query("""
            SELECT accepted, first_seen, last_seen, highest_contiguous, revoked, paired_at, redelivered,
                (SELECT count(*) FROM message m WHERE m.serial = d.serial AND m.retimed),
                (SELECT count(*) FROM message m WHERE m.serial = d.serial AND m.untimed),
                (SELECT count(*) FROM dead_letter l WHERE l.serial = d.serial)
            FROM device d WHERE serial = \(serial)
            """, logger: logger).collect().first else { return nil }
        let (accepted, firstSeen, lastSeen, highest, revoked, pairedAt, redelivered, retimed, untimed, deadLettered) =
            try row.decode((Int64, Int64?, Int64?, Int64, Bool, Int64?, Int64, Int64, Int64, Int64).self)
        let keyID = try await client.query("SELECT key_id FROM device_key WHERE serial = \(serial) AND NOT retired", logger: logger)
            .collect().first.map { KeyID.hex(Array(try $0.decode(Data.self))) }
        var rejected: [String: UInt64] = [:]
        for try await (reason, count) in try await client.query("SELECT reason, count FROM rejection WHERE serial = \(serial)", logger: logger)
            .decode((String, Int64).self) {
            rejected[reason] = UInt64(count)
        }
        var summary = DeviceSummary(serial: serial, keyID: keyID, pairedAt: pairedAt, revoked: revoked, accepted: UInt64(accepted),
                                    rejected: rejected, firstSeen: firstSeen, lastSeen: lastSeen, highestContiguous: UInt64(bitPattern: highest),
                                    retimed: UInt64(retimed), awaitingTime: UInt64(untimed))
        summary.deadLettered = UInt64(clamping: deadLettered)
        summary.redelivered = UInt64(clamping: redelivered)
        if let firstSeen, let lastSeen {
            let sensors = try await client.query("SELECT name, interval_ms FROM device_sensor WHERE serial = \(serial)", logger: logger)
                .collect().map { row in try row.decode((String, Int64).self) }.map { (name: $0.0, intervalMilliseconds: $0.1) }
            let counts = try await client.query("SELECT metric, sum(count)::BIGINT FROM tally WHERE serial = \(serial) GROUP BY metric", logger: logger)
                .collect().map { row in try row.decode((String, Int64).self) }.map { (metric: $0.0, count: $0.1) }
            summary.coverage = StoredViews.coverage(firstSeen: firstSeen, lastSeen: lastSeen, sensors: sensors, counts: counts)
        }
        return summary
    }

    public func quality(serial: String, epochStart: Int64?, now: Int64) async throws -> DeviceQuality? {
        var start = epochStart
        if start == nil {
            start = try await client.query("""
                SELECT max(epoch_start) FROM message WHERE serial = \(serial) AND epoch_start < \(calendar.start(of: now)) AND NOT untimed
                """, logger: logger).collect().first.flatMap { try $0.decode(Int64?.self) }
        }
        guard let start else { return nil }
        let messages = try await client.query("""
            SELECT raw, device_time FROM message WHERE serial = \(serial) AND epoch_start = \(start) AND NOT untimed
            """, logger: logger).collect().map { row in
                let (raw, time) = try row.decode((Data, Int64).self)
                return (raw: Array(raw), time: time)
            }
        let intervals = try await client.query("SELECT name, interval_ms FROM device_sensor WHERE serial = \(serial)", logger: logger)
            .collect().map { row in try row.decode((String, Int64).self) }.map { (name: $0.0, intervalMilliseconds: $0.1) }
        return StoredViews.quality(serial: serial, epochStart: start, epochEnd: calendar.end(ofEpochStartingAt: start), messages: messages,
                                   intervals: intervals)
    }

    public func tallies(_ query: TallyQuery) async throws -> [TallyRow] {
        try await tallies(query, after: nil, limit: nil)
    }

    public func tallies(_ query: TallyQuery, page: PageRequest<TallyKey>) async throws -> Page<TallyRow> {
        Page(fetched: try await tallies(query, after: page.after, limit: Int64(page.limit) + 1), limit: page.limit)
    }

    /// In (serial, metric, epoch start) order, after the key `after`, at most `limit` (nil: all).
    func tallies(_ query: TallyQuery, after: TallyKey?, limit: Int64?) async throws -> [TallyRow] {
        let rows = try await client.query("""
            SELECT serial, metric, epoch_start, unit, count, minimum, maximum, sum FROM tally
            WHERE (\(query.serial == nil) OR serial = \(query.serial ?? "")) AND epoch_start >= \(query.from ?? Int64.min)
              AND epoch_start < \(query.to ?? Int64.max)
              AND (\(after == nil) OR (serial, metric, epoch_start) > (\(after?.serial ?? ""), \(after?.metric ?? ""), \(after?.epochStart ?? 0)))
            ORDER BY serial, metric, epoch_start
            LIMIT \(limit ?? Int64.max)
            """, logger: logger)
        var tallies: [TallyRow] = []
        for try await (serial, metric, start, unit, count, minimum, maximum, sum) in rows.decode((String, String, Int64, String, Int64, Double, Double, Double).self) {
            tallies.append(TallyRow(serial: serial, metric: metric, unit: unit, epochStart: start, epochEnd: calendar.end(ofEpochStartingAt: start),
                                    count: UInt64(count), minimum: minimum, maximum: maximum, sum: sum))
        }
        return tallies
    }

    public func activity(buckets: Int, bucketMilliseconds: Int64, now: Int64) async throws -> [ActivityBucket] {
        let first = (now / bucketMilliseconds - Int64(buckets - 1)) * bucketMilliseconds
        var accepted: [Int64: UInt64] = [:], rejected: [Int64: UInt64] = [:]
        for try await (bucket, count) in try await client.query("""
            SELECT (received_at / \(bucketMilliseconds)) * \(bucketMilliseconds), count(*) FROM message WHERE received_at >= \(first) GROUP BY 1
            """, logger: logger).decode((Int64, Int64).self) {
            accepted[bucket] = UInt64(count)
        }
        for try await (minute, count) in try await client.query("SELECT minute, count FROM rejection_minute WHERE minute >= \(first)", logger: logger)
            .decode((Int64, Int64).self) {
            rejected[minute / bucketMilliseconds * bucketMilliseconds, default: 0] += UInt64(count)
        }
        return (0..<Int64(buckets)).map { index in
            let start = first + index * bucketMilliseconds
            return ActivityBucket(start: start, accepted: accepted[start] ?? 0, rejected: rejected[start] ?? 0)
        }
    }

    public func latestReadings(limit: Int) async throws -> [LatestReading] {
        var latest: [LatestReading] = []
        for row in try await client.query("SELECT serial FROM device ORDER BY serial", logger: logger).collect() {
            let serial = try row.decode(String.self)
            let raws = try await client.query("SELECT raw FROM message WHERE serial = \(serial) ORDER BY sequence DESC LIMIT 30", logger: logger)
                .collect().map { Array(try $0.decode(Data.self)) }
            latest += StoredViews.latestReadings(serial: serial, newestFirst: raws)
            if latest.count >= limit { break }
        }
        return Array(latest.prefix(limit))
    }

    public func epochs() async throws -> [EpochSummary] {
        try await epochSummaries(try await client.query("""
            SELECT id, start, end_ms, message_count, root, signed, aggregator_key FROM epoch ORDER BY start
            """, logger: logger))
    }

    public func epochs(page: PageRequest<Int64>) async throws -> Page<EpochSummary> {
        Page(fetched: try await epochSummaries(try await client.query("""
            SELECT id, start, end_ms, message_count, root, signed, aggregator_key FROM epoch WHERE start > \(page.after ?? Int64.min)
            ORDER BY start LIMIT \(Int64(page.limit) + 1)
            """, logger: logger)), limit: page.limit)
    }

    public func epoch(id: String) async throws -> EpochSummary? {
        try await epochSummaries(try await client.query("""
            SELECT id, start, end_ms, message_count, root, signed, aggregator_key FROM epoch WHERE id = \(id)
            """, logger: logger)).first
    }

    private func epochSummaries(_ rows: PostgresRowSequence) async throws -> [EpochSummary] {
        var summaries: [EpochSummary] = []
        for try await (id, start, end, count, root, signed, key) in rows.decode((String, Int64, Int64, Int64, Data, Data, Data).self) {
            summaries.append(StoredViews.epochSummary(id: id, start: start, end: end, messageCount: count, root: Array(root), signed: Array(signed),
                                                      aggregatorKey: Array(key)))
        }
        return summaries
    }

    public func proof(epoch id: String, serial: String, sequence: UInt64) async throws -> [UInt8]? {
        guard let epoch = try await client.query("SELECT start, signed FROM epoch WHERE id = \(id)", logger: logger).collect().first else { return nil }
        let (start, signed) = try epoch.decode((Int64, Data).self)
        guard let message = try await client.query("""
            SELECT raw, hash FROM message WHERE serial = \(serial) AND sequence = \(Int64(bitPattern: sequence)) AND merkle_epoch = \(start)
            """, logger: logger).collect().first else { return nil }
        let (raw, hash) = try message.decode((Data, Data).self)
        let hashes = try await messageHashes(epochStart: start)
        let client = client, logger = logger
        return try await StoredViews.proof(signedEpoch: Array(signed), raw: Array(raw), hash: Array(hash), epochHashes: hashes) { keyID in
            try await client.query("SELECT public_key FROM device_key WHERE serial = \(serial) AND key_id = \(Data(keyID))", logger: logger)
                .collect().first.map { Array(try $0.decode(Data.self)) }
        }
    }
}
