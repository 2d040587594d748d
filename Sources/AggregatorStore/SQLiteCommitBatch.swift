import Aggregator
import Foundation
import GRDB
import TransparencyLog

/// One group commit into SQLite, inside the caller's transaction. Each
/// message is inserted (or found already there) on its own; what many
/// messages of a batch share is written once per batch: tallies summed per
/// (device, metric, epoch), device counters and the highest contiguous
/// sequence once per device, boot anchors and sealed epochs looked up once.
/// That keeps the writer's work per message to about one insert.
struct SQLiteCommitBatch {
    private struct TallyKey: Hashable {
        var serial: String
        var metric: String
        var epoch: Int64
    }

    private struct TallySum {
        var unit: String
        var count: Int64 = 0
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var sum = 0.0

        mutating func add(_ value: Double) {
            count += 1
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
            sum += value
        }
    }

    private struct DeviceChange {
        var accepted: Int64 = 0
        var redelivered: Int64 = 0
        var firstSeen = Int64.max
        var lastSeen = Int64.min
        var floor: UInt64 = 0
    }

    private struct BootKey: Hashable {
        var serial: String
        var bootID: [UInt8]
    }

    let db: Database
    let calendar: EpochCalendar
    private var anchors: [BootKey: Int64?] = [:]
    private var sealed: [Int64: Bool] = [:]
    private var tallies: [TallyKey: TallySum] = [:]
    private var tallyOrder: [TallyKey] = []
    private var devices: [String: DeviceChange] = [:]
    private var deviceOrder: [String] = []
    /// The transparency log, read once per batch when the first message is stored.
    private var log: LogAppender?

    private let appendsToLog: Bool

    init(db: Database, calendar: EpochCalendar, appendsToLog: Bool = true) {
        self.db = db
        self.calendar = calendar
        self.appendsToLog = appendsToLog
    }

    /// Results in `messages`' order; each carries its device's highest
    /// contiguous sequence after the whole batch (acks go out after the
    /// transaction commits, so the newest value is the right one).
    mutating func commit(_ messages: [StoredMessage]) throws -> [CommitResult] {
        var outcomes: [CommitResult.Outcome] = []
        outcomes.reserveCapacity(messages.count)
        for message in messages {
            let outcome = try insert(message)
            if outcome == .duplicate { devices[message.serial]?.redelivered += 1 }
            outcomes.append(outcome)
        }
        try writeTallies()
        let highest = try updateDevices()
        return zip(messages, outcomes).map { message, outcome in
            CommitResult(outcome, highestContiguous: highest[message.serial] ?? 0)
        }
    }

    /// Stored; a duplicate (the same bytes are stored, or the sequence was
    /// dead-lettered: settled either way); or a conflict (other bytes are
    /// stored under this sequence: nothing changes).
    private mutating func insert(_ message: StoredMessage) throws -> CommitResult.Outcome {
        try MessageTiming.check(message)
        if devices[message.serial] == nil {
            devices[message.serial] = DeviceChange()
            deviceOrder.append(message.serial)
        }
        if try SQLiteStore.isDeadLettered(db, serial: message.serial, sequence: message.sequence) { return .duplicate }
        let boot = BootKey(serial: message.serial, bootID: message.bootID)
        let anchor: Int64?
        if let known = anchors[boot] {
            anchor = known
        } else {
            anchor = try SQLiteStore.bootAnchor(db, serial: message.serial, bootID: message.bootID)
            anchors[boot] = anchor
        }
        let timing = try MessageTiming(message, anchor: anchor, calendar: calendar)
        let merkleEpoch = try isSealed(timing.epoch) ? calendar.start(of: message.receivedAt) : timing.epoch
        // The row is the log's next entry, holding the hashes its append
        // adds; the appender moves on only if the insert stores it.
        var appender = try appendsToLog ? log ?? SQLiteStore.logAppender(db) : nil
        let logIndex = appender.map { Int64($0.size) }
        let logHashes = appender?.append(message.raw)
        try db.cachedStatement(sql: """
            INSERT INTO message (serial, sequence, raw, hash, device_time, received_at, epoch_start, merkle_epoch, boot_id, ms_since_boot,
                                 retimed, untimed, log_idx, log_hashes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """).execute(arguments: [message.serial, Int64(bitPattern: message.sequence), Data(message.raw), Data(message.hash),
                                     timing.time, message.receivedAt, timing.epoch, merkleEpoch, Data(message.bootID),
                                     message.millisecondsSinceBoot, timing.retimed, timing.untimed, logIndex,
                                     logHashes.map { Data(EntryHashes.encode($0)) }])
        guard db.changesCount > 0 else {
            let stored = try Data.fetchOne(db.cachedStatement(sql: "SELECT hash FROM message WHERE serial = ? AND sequence = ?"),
                                           arguments: [message.serial, Int64(bitPattern: message.sequence)])
            return stored.map { Array($0) == message.hash } ?? true ? .duplicate : .conflict
        }
        if timing.untimed {
            try SQLiteStore.holdReadings(db, message)
        } else {
            for reading in message.readings {
                let key = TallyKey(serial: message.serial, metric: reading.metric, epoch: timing.epoch)
                if tallies[key] == nil {
                    tallies[key] = TallySum(unit: reading.unit)
                    tallyOrder.append(key)
                }
                tallies[key]?.add(reading.value)
            }
        }
        // A boot that would have started before 1970 (ms since boot above the
        // timestamp) is not anchored: its waiting readings keep waiting
        // rather than count in an epoch before the Unix epoch.
        if message.clockSynchronised && anchor == nil, try MessageTiming.anchor(of: message) >= 0 {
            try SQLiteStore.anchorBoot(db, message, calendar: calendar)
            anchors[boot] = try MessageTiming.anchor(of: message)
        }
        var change = devices[message.serial] ?? DeviceChange()
        change.accepted += 1
        change.firstSeen = min(change.firstSeen, message.receivedAt)
        change.lastSeen = max(change.lastSeen, message.receivedAt)
        change.floor = max(change.floor, message.floor)
        devices[message.serial] = change
        if let appender { log = appender }
        return .stored
    }

    private mutating func isSealed(_ epoch: Int64) throws -> Bool {
        if let known = sealed[epoch] { return known }
        let answer = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM epoch WHERE start = ?)"), arguments: [epoch]) ?? false
        sealed[epoch] = answer
        return answer
    }

    private func writeTallies() throws {
        for key in tallyOrder {
            guard let sum = tallies[key] else { continue }
            try SQLiteStore.tally(db, serial: key.serial, metric: key.metric, unit: sum.unit, epoch: key.epoch, count: sum.count,
                                  minimum: sum.minimum, maximum: sum.maximum, sum: sum.sum)
        }
    }

    /// Device counters, then the highest contiguous sequence: past the
    /// device's settled floor, then over every stored successor.
    private func updateDevices() throws -> [String: UInt64] {
        var highest: [String: UInt64] = [:]
        for serial in deviceOrder {
            guard let change = devices[serial] else { continue }
            try db.cachedStatement(sql: "INSERT INTO device (serial) VALUES (?) ON CONFLICT DO NOTHING").execute(arguments: [serial])
            if change.redelivered > 0 {
                try db.cachedStatement(sql: "UPDATE device SET redelivered = redelivered + ? WHERE serial = ?")
                    .execute(arguments: [change.redelivered, serial])
            }
            if change.accepted > 0 {
                try db.cachedStatement(sql: """
                    UPDATE device SET accepted = accepted + ?,
                        first_seen = coalesce(min(first_seen, ?), ?), last_seen = max(coalesce(last_seen, 0), ?)
                    WHERE serial = ?
                    """).execute(arguments: [change.accepted, change.firstSeen, change.firstSeen, change.lastSeen, serial])
            }
            highest[serial] = try Self.advanceHighest(db, serial: serial, floor: change.floor)
        }
        return highest
    }

    /// Moves the device's highest contiguous sequence past `floor` and over
    /// every settled successor (stored or dead-lettered); the device row
    /// must exist. Checked: it stops at Int64.max (what SQLite can hold)
    /// instead of trapping on `+ 1`.
    static func advanceHighest(_ db: Database, serial: String, floor: UInt64) throws -> UInt64 {
        let stored = try Int64.fetchOne(db.cachedStatement(sql: "SELECT highest_contiguous FROM device WHERE serial = ?"), arguments: [serial]) ?? 0
        var value = max(UInt64(clamping: stored), min(floor, UInt64(Int64.max)))
        while value < UInt64(Int64.max), try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM message WHERE serial = ?1 AND sequence = ?2)
                OR EXISTS (SELECT 1 FROM dead_letter WHERE serial = ?1 AND sequence = ?2)
            """), arguments: [serial, Int64(value + 1)]) == true {
            value += 1
        }
        try db.cachedStatement(sql: "UPDATE device SET highest_contiguous = ? WHERE serial = ?").execute(arguments: [Int64(value), serial])
        return value
    }
}
