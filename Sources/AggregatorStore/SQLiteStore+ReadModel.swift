import Aggregator
import Foundation
import GRDB
import Wire
import LinuxService

/// The API's and dashboard's queries answered from the SQLite file.
extension SQLiteStore: AggregatorReadModel {
    static func registerReadModelMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-rejection-minutes") { db in
            // Rejections per minute, for the dashboard's chart (the
            // per-device counts by reason are in `rejection`).
            try db.execute(sql: """
                CREATE TABLE rejection_minute (minute INTEGER PRIMARY KEY NOT NULL, count INTEGER NOT NULL);
                CREATE INDEX message_received ON message (received_at);
                """)
        }
    }

    public func devices() async throws -> [DeviceSummary] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT serial FROM device ORDER BY serial").compactMap { try Self.summary(db, serial: $0) }
        }
    }

    public func devices(page: PageRequest<String>) async throws -> Page<DeviceSummary> {
        try await pool.read { db in
            var arguments: [any DatabaseValueConvertible] = page.after.map { [$0] } ?? []
            arguments.append(page.limit + 1)
            let serials = try String.fetchAll(db, sql: "SELECT serial FROM device \(page.after == nil ? "" : "WHERE serial > ?") ORDER BY serial LIMIT ?",
                                              arguments: StatementArguments(arguments))
            return Page(fetched: try serials.compactMap { try Self.summary(db, serial: $0) }, limit: page.limit)
        }
    }

    public func tallies(_ query: TallyQuery, page: PageRequest<TallyKey>) async throws -> Page<TallyRow> {
        Page(fetched: try await tallies(serial: query.serial, from: query.from, to: query.to, after: page.after, limit: page.limit + 1),
             limit: page.limit)
    }

    public func epochs(page: PageRequest<Int64>) async throws -> Page<EpochSummary> {
        try await pool.read { db in
            Page(fetched: try Row.fetchAll(db, sql: "SELECT * FROM epoch WHERE start > ? ORDER BY start LIMIT ?",
                                           arguments: [page.after ?? Int64.min, page.limit + 1]).map(Self.epochSummary),
                 limit: page.limit)
        }
    }

    /// With the data-quality score of its latest closed epoch (the list
    /// leaves it out: it decodes that epoch's messages).
    public func device(serial: String) async throws -> DeviceSummary? {
        guard var summary = try await pool.read({ db in try Self.summary(db, serial: serial) }) else { return nil }
        summary.quality = try await quality(serial: serial, epochStart: nil, now: Int64(WallClock.milliseconds()))?.score
        return summary
    }

    public func tallies(_ query: TallyQuery) async throws -> [TallyRow] {
        try await tallies(serial: query.serial, from: query.from, to: query.to)
    }

    public func activity(buckets: Int, bucketMilliseconds: Int64, now: Int64) async throws -> [ActivityBucket] {
        let first = (now / bucketMilliseconds - Int64(buckets - 1)) * bucketMilliseconds
        return try await pool.read { db in
            var accepted: [Int64: UInt64] = [:], rejected: [Int64: UInt64] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT (received_at / ?) * ? AS bucket, count(*) AS n FROM message WHERE received_at >= ? GROUP BY bucket
                """, arguments: [bucketMilliseconds, bucketMilliseconds, first]) {
                accepted[row["bucket"]] = UInt64(row["n"] as Int64)
            }
            for row in try Row.fetchAll(db, sql: "SELECT minute, count FROM rejection_minute WHERE minute >= ?", arguments: [first]) {
                let minute: Int64 = row["minute"]
                rejected[minute / bucketMilliseconds * bucketMilliseconds, default: 0] += UInt64(row["count"] as Int64)
            }
            return (0..<Int64(buckets)).map { index in
                let start = first + index * bucketMilliseconds
                return ActivityBucket(start: start, accepted: accepted[start] ?? 0, rejected: rejected[start] ?? 0)
            }
        }
    }

    /// The newest value of each device's metrics with up to 30 before it,
    /// decoded from the stored messages themselves.
    public func latestReadings(limit: Int) async throws -> [LatestReading] {
        try await pool.read { db in
            var latest: [LatestReading] = []
            for serial in try String.fetchAll(db, sql: "SELECT serial FROM device ORDER BY serial") {
                let raws = try Data.fetchAll(db, sql: "SELECT raw FROM message WHERE serial = ? ORDER BY sequence DESC LIMIT 30",
                                             arguments: [serial])
                latest += StoredViews.latestReadings(serial: serial, newestFirst: raws.map { Array($0) })
                if latest.count >= limit { break }
            }
            return Array(latest.prefix(limit))
        }
    }

    public func quality(serial: String, epochStart: Int64?, now: Int64) async throws -> DeviceQuality? {
        let calendar = calendar
        return try await pool.read { db in
            guard let start = try epochStart ?? Int64.fetchOne(db, sql: """
                SELECT max(epoch_start) FROM message WHERE serial = ? AND epoch_start < ? AND untimed = 0
                """, arguments: [serial, calendar.start(of: now)]) else { return nil }
            let messages = try Row.fetchAll(db, sql: "SELECT raw, device_time FROM message WHERE serial = ? AND epoch_start = ? AND untimed = 0",
                                            arguments: [serial, start]).map { (raw: Array($0["raw"] as Data), time: $0["device_time"] as Int64) }
            let intervals = try Row.fetchAll(db, sql: "SELECT name, interval_ms FROM device_sensor WHERE serial = ?", arguments: [serial])
                .map { (name: $0["name"] as String, intervalMilliseconds: $0["interval_ms"] as Int64) }
            return StoredViews.quality(serial: serial, epochStart: start, epochEnd: calendar.end(ofEpochStartingAt: start),
                                       messages: messages, intervals: intervals)
        }
    }

    /// One device's summary (coverage as `StoredViews.coverage`).
    static func summary(_ db: Database, serial: String) throws -> DeviceSummary? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM device WHERE serial = ?", arguments: [serial]) else { return nil }
        let keyID = try Data.fetchOne(db, sql: "SELECT key_id FROM device_key WHERE serial = ? AND retired = 0", arguments: [serial])
        var summary = DeviceSummary(serial: serial, keyID: keyID.map { KeyID.hex(Array($0)) }, pairedAt: row["paired_at"],
                                    revoked: row["revoked"], accepted: UInt64(row["accepted"] as Int64), rejected: try rejections(db, serial: serial),
                                    firstSeen: row["first_seen"], lastSeen: row["last_seen"],
                                    highestContiguous: UInt64(bitPattern: row["highest_contiguous"] as Int64))
        summary.retimed = UInt64(try Int64.fetchOne(db, sql: "SELECT count(*) FROM message WHERE serial = ? AND retimed = 1", arguments: [serial]) ?? 0)
        summary.awaitingTime = UInt64(try Int64.fetchOne(db, sql: "SELECT count(*) FROM message WHERE serial = ? AND untimed = 1",
                                                         arguments: [serial]) ?? 0)
        summary.deadLettered = UInt64(try Int64.fetchOne(db, sql: "SELECT count(*) FROM dead_letter WHERE serial = ?", arguments: [serial]) ?? 0)
        summary.redelivered = UInt64(clamping: row["redelivered"] as Int64)
        if let first = summary.firstSeen, let last = summary.lastSeen {
            let sensors = try Row.fetchAll(db, sql: "SELECT name, interval_ms FROM device_sensor WHERE serial = ?", arguments: [serial])
                .map { (name: $0["name"] as String, intervalMilliseconds: $0["interval_ms"] as Int64) }
            let counts = try Row.fetchAll(db, sql: "SELECT metric, sum(count) AS n FROM tally WHERE serial = ? GROUP BY metric", arguments: [serial])
                .map { (metric: $0["metric"] as String, count: $0["n"] as Int64) }
            summary.coverage = StoredViews.coverage(firstSeen: first, lastSeen: last, sensors: sensors, counts: counts)
        }
        return summary
    }

    static func recordRejectionMinute(_ db: Database, at time: Int64) throws {
        try db.execute(sql: """
            INSERT INTO rejection_minute (minute, count) VALUES (?, 1) ON CONFLICT (minute) DO UPDATE SET count = count + 1
            """, arguments: [time / 60_000 * 60_000])
    }
}
