import LinuxService
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The durable on-disk spool of signed messages: append-only segment files
/// with a CRC-32C per record. A record leaves only when the aggregator's
/// acknowledgement covers its sequence, or when the spool is full (oldest
/// first, counted). Opening the spool recovers it: a torn or corrupt tail is
/// truncated and counted, never fatal.
public final class Spool {
    struct Segment {
        var path: String
        /// The sequence the file is named after (its first record's).
        var firstSequence: UInt64
        var size: Int
        /// Each record's sequence and byte offset (12 bytes a record, about
        /// 2 MiB for a full 64 MiB spool): reading from a sequence and
        /// acknowledging read only the bytes they need instead of the whole
        /// segment, which made replaying a backlog quadratic.
        var sequences: [UInt64] = []
        var offsets: [UInt32] = []

        var count: Int { sequences.count }
        /// An empty segment (just started) counts as ending at its name.
        var lastSequence: UInt64 { sequences.last ?? firstSequence }

        /// The index of the first record with a sequence above `sequence`.
        func firstIndex(above sequence: UInt64) -> Int {
            var low = 0, high = sequences.count
            while low < high {
                let middle = (low + high) / 2
                if sequences[middle] <= sequence { low = middle + 1 } else { high = middle }
            }
            return low
        }

        func end(of index: Int) -> Int { index + 1 < offsets.count ? Int(offsets[index + 1]) : size }
    }

    public let configuration: SpoolConfiguration
    private let now: () -> UInt64
    private var segments: [Segment] = []
    private var activeFD: FileDescriptor?
    private var lastSync: UInt64 = 0
    private var unsynced = false
    private var meta = SpoolMeta()
    /// Records of the first segment at or below the acknowledgement.
    /// Acknowledged records still in the segments: only the first segment
    /// has any, unless `keepUntilLogged` holds whole acknowledged segments
    /// for a log receipt; and of those, the ones no receipt proved yet.
    private var acknowledgedHeld = 0
    private var unproven = 0
    private var oldestUnacknowledged: UInt64?
    private var oldestUnacknowledgedSequence: UInt64?

    public init(configuration: SpoolConfiguration, now: @escaping () -> UInt64 = WallClock.milliseconds) throws {
        guard configuration.segmentBytes >= 4096, configuration.maximumBytes >= 2 * configuration.segmentBytes else {
            throw AgentError.corruptState(path: configuration.directory,
                                          reason: "spool limits: maximum bytes must be at least twice the segment bytes (at least 4096)")
        }
        self.configuration = configuration
        self.now = now
        try FileIO.makeDirectory(configuration.directory)
        meta = try SpoolMeta.load(from: metaPath)
        try recover()
    }

    deinit {
        if let activeFD {
            if unsynced { try? FileIO.fsync(activeFD, path: activePath) }
            FileIO.close(activeFD)
        }
    }

    private var metaPath: String { configuration.directory + "/spool.meta" }
    private var activePath: String { segments.last?.path ?? configuration.directory }

    // MARK: Recovery

    private func recover() throws {
        let names = try FileIO.list(configuration.directory)
            .filter { $0.hasPrefix("seg-") && $0.hasSuffix(".spool") }
            .sorted()
        for name in names {
            let path = configuration.directory + "/" + name
            let bytes = try FileIO.readFile(path) ?? []
            var offset = 0
            var segment = Segment(path: path, firstSequence: 0, size: 0)
            scan: while true {
                switch SpoolRecordFormat.decode(bytes, at: offset) {
                case .end:
                    break scan
                case .invalid:
                    meta.truncatedTails += 1
                    meta.truncatedBytes += UInt64(bytes.count - offset)
                    break scan
                case let .record(record, size):
                    let previous = segment.count > 0 ? segment.lastSequence : (segments.last?.lastSequence ?? 0)
                    if record.sequence <= previous && !(segment.count == 0 && segments.isEmpty) {
                        // Out of order can only be corruption that passed the CRC.
                        meta.truncatedTails += 1
                        meta.truncatedBytes += UInt64(bytes.count - offset)
                        break scan
                    }
                    if segment.count == 0 { segment.firstSequence = record.sequence }
                    segment.sequences.append(record.sequence)
                    segment.offsets.append(UInt32(offset))
                    offset += size
                }
            }
            if offset < bytes.count {
                let fd = try FileIO.open(path, .writeOnly)
                try FileIO.truncate(fd, to: offset, path: path)
                try FileIO.fsync(fd, path: path)
                FileIO.close(fd)
            }
            segment.size = offset
            if segment.count == 0 {
                try FileIO.remove(path)
            } else {
                segments.append(segment)
            }
        }
        try dropReleasedSegments()
        try recount()
        if meta.isDirty { try meta.save(to: metaPath) }
    }

    // MARK: Appending

    /// Appends one record. Sequences must increase.
    @discardableResult
    public func append(sequence: UInt64, payload: [UInt8]) throws -> SpoolRecord {
        if let last = segments.last, sequence <= last.lastSequence {
            throw AgentError.corruptState(path: last.path, reason: "sequence \(sequence) is not above the last spooled \(last.lastSequence)")
        }
        let record = SpoolRecord(sequence: sequence, appendedAt: now(), payload: payload)
        let bytes = SpoolRecordFormat.encode(record)
        guard bytes.count <= configuration.segmentBytes else {
            throw AgentError.recordTooLarge(size: bytes.count, limit: configuration.segmentBytes)
        }
        try makeRoom(for: bytes.count)
        let full = segments.last.map { $0.size + bytes.count > configuration.segmentBytes } ?? true
        let fd = try activeFD.flatMap { full ? nil : $0 } ?? startSegment(firstSequence: sequence)
        try FileIO.writeAll(fd, bytes, path: activePath)
        segments[segments.count - 1].sequences.append(sequence)
        segments[segments.count - 1].offsets.append(UInt32(segments[segments.count - 1].size))
        segments[segments.count - 1].size += bytes.count
        if oldestUnacknowledged == nil {
            oldestUnacknowledged = record.appendedAt
            oldestUnacknowledgedSequence = record.sequence
        }
        unsynced = true
        switch configuration.durability {
        case .everyRecord:
            try sync()
        case let .groupCommit(milliseconds):
            if record.appendedAt >= lastSync + UInt64(max(0, milliseconds)) { try sync() }
        }
        return record
    }

    /// Forces appended records to the disk.
    public func sync() throws {
        guard unsynced, let activeFD else { return }
        try FileIO.fsync(activeFD, path: activePath)
        unsynced = false
        lastSync = now()
    }

    /// Closes the active segment and opens a new one; returns its descriptor.
    private func startSegment(firstSequence: UInt64) throws -> FileDescriptor {
        if let fd = activeFD {
            if unsynced { try FileIO.fsync(fd, path: activePath); unsynced = false }
            FileIO.close(fd)
            activeFD = nil
        }
        let digits = String(firstSequence)
        let name = "seg-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".spool"
        let path = configuration.directory + "/" + name
        let fd = try FileIO.open(path, .writeOnly, options: [.create, .append])
        activeFD = fd
        try FileIO.syncDirectory(of: path)
        segments.append(Segment(path: path, firstSequence: firstSequence, size: 0))
        return fd
    }

    /// Drops the oldest segments until `size` more bytes fit.
    private func makeRoom(for size: Int) throws {
        var dropped = false
        while totalBytes + size > configuration.maximumBytes, segments.count > 1 {
            let oldest = segments.removeFirst()
            let acknowledged = oldest.firstIndex(above: meta.acknowledgedUpTo)
            meta.droppedRecords += UInt64(oldest.count - acknowledged)
            if configuration.keepUntilLogged {
                meta.unprovenDropped += UInt64(max(0, acknowledged - oldest.firstIndex(above: meta.loggedUpTo)))
            }
            try FileIO.remove(oldest.path)
            dropped = true
        }
        if dropped {
            try recount()
            try meta.save(to: metaPath)
        }
    }

    private var totalBytes: Int { segments.reduce(0) { $0 + $1.size } }

    // MARK: Acknowledging

    /// The aggregator has committed every sequence up to `sequence`: those
    /// records may go.
    public func acknowledge(upTo sequence: UInt64) throws {
        try raise(\.acknowledgedUpTo, to: sequence)
    }

    /// A log receipt proved the device's messages up to `sequence` are in
    /// the transparency log; with `keepUntilLogged`, acknowledged records up
    /// to there may go.
    public func markLogged(upTo sequence: UInt64) throws {
        try raise(\.loggedUpTo, to: sequence)
    }

    /// Moves a watermark up and lets go of what it releases.
    private func raise(_ watermark: WritableKeyPath<SpoolMeta, UInt64>, to sequence: UInt64) throws {
        // Still dirty: an earlier call threw halfway; its steps are redone
        // (each is idempotent), so a retry is not taken for done.
        guard sequence > meta[keyPath: watermark] || meta.isDirty else { return }
        meta[keyPath: watermark] = max(meta[keyPath: watermark], sequence)
        meta.isDirty = true
        try dropReleasedSegments()
        try recount()
        try meta.save(to: metaPath)
    }

    /// Records up to here may leave the spool.
    private var releasedUpTo: UInt64 {
        configuration.keepUntilLogged ? min(meta.acknowledgedUpTo, meta.loggedUpTo) : meta.acknowledgedUpTo
    }

    private func dropReleasedSegments() throws {
        while let first = segments.first, first.lastSequence <= releasedUpTo {
            if segments.count == 1, let fd = activeFD {
                FileIO.close(fd)
                activeFD = nil
                unsynced = false
            }
            try FileIO.remove(first.path)
            segments.removeFirst()
        }
    }

    /// Counts the acknowledged (and unproven) records still held and finds
    /// the oldest unacknowledged one (one read, in one segment).
    private func recount() throws {
        acknowledgedHeld = 0
        unproven = 0
        oldestUnacknowledged = nil
        oldestUnacknowledgedSequence = nil
        for segment in segments {
            let acknowledged = segment.firstIndex(above: meta.acknowledgedUpTo)
            acknowledgedHeld += acknowledged
            if configuration.keepUntilLogged { unproven += max(0, acknowledged - segment.firstIndex(above: meta.loggedUpTo)) }
        }
        guard let first = segments.first(where: { $0.lastSequence > meta.acknowledgedUpTo }) else { return }
        let oldest = try readRecords(first, from: first.firstIndex(above: meta.acknowledgedUpTo), count: 1).first
        oldestUnacknowledged = oldest?.appendedAt
        oldestUnacknowledgedSequence = oldest?.sequence
    }

    /// Records `from`..<`from + count` of a segment, read with one pread.
    private func readRecords(_ segment: Segment, from start: Int, count: Int) throws -> [SpoolRecord] {
        let end = min(segment.count, start + count)
        guard start < end else { return [] }
        let first = Int(segment.offsets[start])
        let bytes = try FileIO.readRange(segment.path, offset: first, length: segment.end(of: end - 1) - first)
        var records: [SpoolRecord] = []
        var offset = 0
        while records.count < end - start, case let .record(record, size) = SpoolRecordFormat.decode(bytes, at: offset) {
            records.append(record)
            offset += size
        }
        return records
    }

    // MARK: Reading

    /// Unacknowledged records with a sequence above `sequence`, oldest
    /// first, at most `limit` of them.
    public func records(after sequence: UInt64 = 0, limit: Int = .max) throws -> [SpoolRecord] {
        let floor = max(sequence, meta.acknowledgedUpTo)
        var result: [SpoolRecord] = []
        // Reads see what `write` put in the page cache; no fsync needed.
        for segment in segments where segment.lastSequence > floor {
            let start = segment.firstIndex(above: floor)
            result += try readRecords(segment, from: start, count: min(limit - result.count, segment.count - start))
            if result.count >= limit { return result }
        }
        return result
    }

    /// The record of `sequence` while the spool still holds it, acknowledged
    /// or not (what a log receipt's inclusion proof is checked against).
    public func record(sequence: UInt64) throws -> SpoolRecord? {
        guard sequence > 0, let segment = segments.last(where: { $0.firstSequence <= sequence }) else { return nil }
        let index = segment.firstIndex(above: sequence - 1)
        guard index < segment.count, segment.sequences[index] == sequence else { return nil }
        return try readRecords(segment, from: index, count: 1).first
    }

    public var statistics: SpoolStatistics {
        SpoolStatistics(
            records: segments.reduce(0) { $0 + $1.count } - acknowledgedHeld,
            bytes: totalBytes,
            oldestAppendedAt: oldestUnacknowledged,
            oldestSequence: oldestUnacknowledgedSequence,
            acknowledgedUpTo: meta.acknowledgedUpTo,
            loggedUpTo: meta.loggedUpTo,
            unprovenRecords: unproven,
            unprovenDropped: meta.unprovenDropped,
            droppedRecords: meta.droppedRecords,
            truncatedTails: meta.truncatedTails,
            truncatedBytes: meta.truncatedBytes
        )
    }

    /// The highest sequence ever appended (0 when empty).
    public var lastSequence: UInt64 { segments.last?.lastSequence ?? 0 }
}
