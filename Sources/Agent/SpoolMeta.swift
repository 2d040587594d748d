import LinuxService

/// The spool's small persistent counters (`spool.meta`): the acknowledgement
/// watermark and what was lost, so the status report survives restarts.
/// Text, one `key value` per line, replaced atomically.
struct SpoolMeta {
    var acknowledgedUpTo: UInt64 = 0
    /// Highest sequence a log receipt proved in the transparency log.
    var loggedUpTo: UInt64 = 0
    /// Acknowledged records dropped from a full spool before any receipt
    /// proved them logged.
    var unprovenDropped: UInt64 = 0
    var droppedRecords: UInt64 = 0
    var truncatedTails: UInt64 = 0 { didSet { isDirty = true } }
    var truncatedBytes: UInt64 = 0 { didSet { isDirty = true } }
    var isDirty = false

    static func load(from path: String) throws -> SpoolMeta {
        var meta = SpoolMeta()
        guard let bytes = try FileIO.readFile(path) else { return meta }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = UInt64(parts[1]) else { continue }
            switch parts[0] {
            case "acknowledged": meta.acknowledgedUpTo = value
            case "logged": meta.loggedUpTo = value
            case "unproven_dropped": meta.unprovenDropped = value
            case "dropped": meta.droppedRecords = value
            case "truncated_tails": meta.truncatedTails = value
            case "truncated_bytes": meta.truncatedBytes = value
            default: continue
            }
        }
        meta.isDirty = false
        return meta
    }

    mutating func save(to path: String) throws {
        let text = """
            acknowledged \(acknowledgedUpTo)
            logged \(loggedUpTo)
            unproven_dropped \(unprovenDropped)
            dropped \(droppedRecords)
            truncated_tails \(truncatedTails)
            truncated_bytes \(truncatedBytes)

            """
        try FileIO.writeAtomically(path, Array(text.utf8))
        isDirty = false
    }
}
