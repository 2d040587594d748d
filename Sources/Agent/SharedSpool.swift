import Synchronization

/// The spool shared by the sampler (appends) and the delivery engine (reads,
/// acknowledgements), serialised by a lock. Keeps the newest records in
/// memory so steady-state delivery never reads the disk.
public final class SharedSpool: Sendable {
    private struct State: ~Copyable {
        var spool: Spool
        var tail: [SpoolRecord] = []
    }

    private let state: Mutex<State>
    private let tailCapacity: Int

    public init(_ spool: sending Spool, tailCapacity: Int = 256) {
        self.state = Mutex(State(spool: spool))
        self.tailCapacity = tailCapacity
    }

    public func append(sequence: UInt64, payload: [UInt8]) throws {
        try state.withLock { state in
            let record = try state.spool.append(sequence: sequence, payload: payload)
            state.tail.append(record)
            if state.tail.count > tailCapacity { state.tail.removeFirst(state.tail.count - tailCapacity) }
        }
    }

    public func acknowledge(upTo sequence: UInt64) throws {
        try state.withLock { state in
            try state.spool.acknowledge(upTo: sequence)
            state.tail.removeAll { $0.sequence <= sequence }
        }
    }

    public func markLogged(upTo sequence: UInt64) throws {
        try state.withLock { try $0.spool.markLogged(upTo: sequence) }
    }

    /// The record of `sequence` while the spool holds it.
    public func record(sequence: UInt64) throws -> SpoolRecord? {
        try state.withLock { state in
            if let record = state.tail.first(where: { $0.sequence == sequence }) { return record }
            return try state.spool.record(sequence: sequence)
        }
    }

    /// Unacknowledged records above `sequence`, oldest first.
    public func records(after sequence: UInt64, limit: Int) throws -> [SpoolRecord] {
        try state.withLock { state in
            let floor = max(sequence, state.spool.statistics.acknowledgedUpTo)
            // The tail holds only unacknowledged records, newest last. It can
            // answer when it holds all of them, or when nothing lies between
            // `floor` and its first record.
            let holdsAll = state.spool.statistics.records == state.tail.count
            if holdsAll || (state.tail.first.map { $0.sequence <= floor + 1 } ?? false) {
                return Array(state.tail.lazy.filter { $0.sequence > floor }.prefix(limit))
            }
            return try state.spool.records(after: floor, limit: limit)
        }
    }

    public func sync() throws {
        try state.withLock { try $0.spool.sync() }
    }

    public var statistics: SpoolStatistics {
        state.withLock { $0.spool.statistics }
    }

    public var lastSequence: UInt64 {
        state.withLock { $0.spool.lastSequence }
    }
}
