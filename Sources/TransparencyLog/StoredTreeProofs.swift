import Synchronization
/// Roots and proofs of a log kept as stored hashes (`LogAppender`'s
/// layout), reading only the stored hashes it needs: O(log n) of them for
/// a root or an inclusion proof, O(log² n) at most for a consistency proof.
/// `reader(level, index)` reads one (from a database, asynchronously).
public struct StoredTreeProofs: Sendable {
    public typealias Reader = @Sendable (_ level: Int, _ index: UInt64) async throws -> MerkleHash

    public let size: UInt64
    private let reader: Reader

    public init(size: UInt64, stored: @escaping Reader) {
        self.size = size
        self.reader = stored
    }

    public func root() async throws -> MerkleHash {
        size == 0 ? .emptyTree : try await hash(0, size)
    }

    /// PATH(index, D[0:size]); nil for an index outside the log.
    public func inclusionProof(index: UInt64) async throws -> [MerkleHash]? {
        guard index < size else { return nil }
        return try await path(index, 0, size)
    }

    /// PROOF(old, D[0:size]); nil when `old` is above the size.
    public func consistencyProof(from old: UInt64) async throws -> [MerkleHash]? {
        guard old <= size else { return nil }
        if old == size || old == 0 { return [] }
        return try await subproof(old, 0, size, complete: true)
    }

    /// MTH(D[start ..< end]): a stored hash when the range is an aligned
    /// power of two, else the split of RFC 6962.
    private func hash(_ start: UInt64, _ end: UInt64) async throws -> MerkleHash {
        let width = end - start
        if width & (width - 1) == 0, start % width == 0 {
            return try await reader(width.trailingZeroBitCount, start / width)
        }
        let split = start + Self.largestPowerOfTwo(below: width)
        return .node(try await hash(start, split), try await hash(split, end))
    }

    private func path(_ index: UInt64, _ start: UInt64, _ end: UInt64) async throws -> [MerkleHash] {
        if end - start == 1 { return [] }
        let split = start + Self.largestPowerOfTwo(below: end - start)
        if index < split { return try await path(index, start, split) + [try await hash(split, end)] }
        return try await path(index, split, end) + [try await hash(start, split)]
    }

    private func subproof(_ old: UInt64, _ start: UInt64, _ end: UInt64, complete: Bool) async throws -> [MerkleHash] {
        if old == end { return complete ? [] : [try await hash(start, end)] }
        let split = start + Self.largestPowerOfTwo(below: end - start)
        if old <= split { return try await subproof(old, start, split, complete: complete) + [try await hash(split, end)] }
        return try await subproof(old, split, end, complete: false) + [try await hash(start, split)]
    }

    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        var k: UInt64 = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// Where a stored hash is: a complete subtree's level and index.
public struct StoredPosition: Hashable, Sendable {
    public var level: Int
    public var index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    /// The entry whose append completed this subtree (its last leaf): a
    /// store keeps the hashes each append adds with that entry, leaf first,
    /// so this one is that entry's `level`-th (see `EntryHashes`). nil past
    /// what 64 bits index.
    public var completingEntry: UInt64? {
        guard (0..<64).contains(level), index < UInt64.max else { return nil }
        let (shifted, overflow) = (index + 1).multipliedReportingOverflow(by: 1 << UInt64(level))
        return overflow ? nil : shifted - 1
    }
}

/// The hashes one append adds, kept together with the entry that added
/// them: its leaf hash, then the subtrees it completes, by level (the
/// entry at index x completes as many as x + 1 has trailing zero bits).
/// One row per entry instead of one per hash.
public enum EntryHashes {
    public static func encode(_ added: [LogAppender.StoredHash]) -> [UInt8] {
        added.sorted { $0.level < $1.level }.flatMap(\.hash.bytes)
    }

    /// The stored hash at `level` among `bytes` (nil when that entry did not complete one).
    public static func hash(in bytes: [UInt8], level: Int) -> MerkleHash? {
        guard level >= 0, level < bytes.count / 32 else { return nil }
        return MerkleHash(bytes: Array(bytes[(level * 32)..<(level * 32 + 32)]))
    }
}

extension StoredTreeProofs {
    /// The stored hashes `body` would read, without reading any: which ones
    /// a root or proof needs depends only on sizes and indices, so a caller
    /// can fetch them all in one query first.
    public func positions(_ body: (StoredTreeProofs) async throws -> Void) async throws -> Set<StoredPosition> {
        let recorder = PositionRecorder()
        try await body(StoredTreeProofs(size: size) { level, index in
            recorder.add(StoredPosition(level: level, index: index))
            return .emptyTree
        })
        return recorder.positions
    }
}

private final class PositionRecorder: Sendable {
    private let recorded = Mutex<Set<StoredPosition>>([])
    func add(_ position: StoredPosition) { recorded.withLock { _ = $0.insert(position) } }
    var positions: Set<StoredPosition> { recorded.withLock { $0 } }
}
