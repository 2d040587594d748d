import LinuxService

/// Hands out message sequence numbers that are never reused, even after
/// `kill -9` or a power cut.
///
/// The file holds a reservation: the first number *not* yet handed out by any
/// run. Before handing out number n the counter makes sure the reservation on
/// disk is above n, extending it a block at a time (one atomic write and fsync
/// per `blockSize` numbers). After a crash the next run starts at the stored
/// reservation, so it skips what the dead run had reserved but never used:
/// gaps are possible, reuse is not.
public final class SequenceCounter {
    public let path: String
    public let blockSize: UInt64
    private var next: UInt64
    private var reservedUpTo: UInt64

    /// Opens (or creates, starting at 1) the counter stored at `path`.
    public init(path: String, blockSize: UInt64 = 1024) throws {
        self.path = path
        self.blockSize = max(1, blockSize)
        if let bytes = try FileIO.readFile(path) {
            guard let text = String(validating: bytes, as: UTF8.self),
                  let stored = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)), stored >= 1 else {
                throw AgentError.corruptState(path: path, reason: "the sequence reservation is not a positive number; "
                    + "never lower it: set it to one more than the last sequence the aggregator has seen")
            }
            next = stored
        } else {
            next = 1
        }
        reservedUpTo = next
    }

    /// Makes the counter at `path` continue above `highest` (what the
    /// aggregator holds for this serial, from the pairing answer): a
    /// reflashed device whose counter restarted at 1 must not re-use
    /// numbers the aggregator already has, or its new readings would be
    /// refused as conflicts. Never lowers the counter.
    public static func continueAbove(_ highest: UInt64, path: String) throws {
        let counter = try SequenceCounter(path: path)
        let (wanted, overflow) = highest.addingReportingOverflow(1)
        guard !overflow else { throw AgentError.corruptState(path: path, reason: "sequence numbers exhausted") }
        guard counter.next < wanted else { return }
        try FileIO.writeAtomically(path, Array("\(wanted)\n".utf8))
    }

    /// The number the next call to `take()` returns.
    public var peek: UInt64 { next }

    /// The next sequence number; persisted before it is returned.
    public func take() throws -> UInt64 {
        if next >= reservedUpTo {
            let (reservation, overflow) = next.addingReportingOverflow(blockSize)
            guard !overflow else { throw AgentError.corruptState(path: path, reason: "sequence numbers exhausted") }
            try FileIO.writeAtomically(path, Array("\(reservation)\n".utf8))
            reservedUpTo = reservation
        }
        defer { next += 1 }
        return next
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Set where Element == Character {
    static let whitespacesAndNewlines: Set<Character> = [" ", "\t", "\n", "\r"]
}
