import LinuxService

/// Where this state directory's sequence numbers went, across runs: the
/// first one it handed out, and how many were reserved by a run that ended
/// (stopped or killed) before it used them. `SequenceCounter` reserves a
/// block at a time and a new run starts above the stored reservation, so
/// every restart leaves a gap; with the last sequence the ledger says how
/// many messages were signed: last − first + 1 − skipped. `fieldproof status`
/// shows it and `scripts/demo` compares it with what the aggregator accepted.
///
/// Kept in `<state_directory>/sequence-ledger` as `<first> <skipped> <next>`,
/// where `next` is the first number of the run that last accounted, so that a
/// run which stops before it takes a number does not count a gap twice.
public struct SequenceLedger: Equatable, Sendable {
    /// The first sequence this state directory handed out (nil: none yet).
    public private(set) var first: UInt64?
    public private(set) var skipped: UInt64 = 0
    private var accountedNext: UInt64 = 0

    public init() {}

    public static func path(inStateDirectory directory: String) -> String { directory + "/sequence-ledger" }

    /// The ledger at `path`, or an empty one. A file that does not parse is
    /// an error naming the file: it is state, never guessed at.
    public static func load(path: String) throws -> SequenceLedger {
        var ledger = SequenceLedger()
        guard let bytes = try FileIO.readFile(path) else { return ledger }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt64($0) }
        guard fields.count == 3, let first = fields[0], let skipped = fields[1], let next = fields[2], first >= 1 else {
            throw AgentError.corruptState(path: path, reason: "the sequence ledger is not '<first> <skipped> <next>'; "
                + "delete it to start counting again (status then counts from the first sequence held)")
        }
        ledger.first = first
        ledger.skipped = skipped
        ledger.accountedNext = next
        return ledger
    }

    /// Accounts for a start: `previous` is the last sequence earlier runs
    /// used (0: none), `next` the first this run hands out. Returns whether
    /// anything changed (then save it).
    public mutating func start(previous: UInt64, next: UInt64) -> Bool {
        let before = self
        if first == nil {
            // No ledger yet: a new state directory (which may start above 1,
            // where pairing continued above what the aggregator holds), or
            // one from before the ledger, which is taken to have started at 1.
            if previous == 0 {
                first = next
                accountedNext = next
            } else {
                first = 1
            }
        }
        // The numbers between the last used and this run's first were never
        // signed, less what an earlier start counted already.
        let from = max(previous == UInt64.max ? previous : previous + 1, accountedNext)
        if next > from { skipped += next - from }
        accountedNext = max(accountedNext, next)
        return self != before
    }

    /// Messages signed up to `last`: `last − first + 1 − skipped`, 0 before any.
    public func signed(upTo last: UInt64) -> UInt64 {
        guard let first, last >= first else { return 0 }
        let span = last - first + 1
        return span > skipped ? span - skipped : 0
    }

    public func save(path: String) throws {
        try FileIO.writeAtomically(path, Array("\(first ?? 1) \(skipped) \(accountedNext)\n".utf8))
    }
}
