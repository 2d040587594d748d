/// Appends entries to a log kept as stored hashes (the hash of every
/// complete aligned subtree, `(level, index)`: MTH of entries
/// [index·2^level, (index+1)·2^level)), knowing only the log's size and its
/// frontier: the roots of the complete subtrees the size decomposes into,
/// largest first (one per set bit of the size). A store reads those few
/// hashes, appends a batch, writes what `append` returns, and never reads
/// the rest of the tree.
public struct LogAppender: Sendable {
    public struct StoredHash: Equatable, Sendable {
        public var level: Int
        public var index: UInt64
        public var hash: MerkleHash
    }

    public private(set) var size: UInt64
    /// (level, hash) of each frontier subtree, largest (highest level) first.
    private var frontier: [(level: Int, hash: MerkleHash)]

    /// The positions whose hashes make the frontier of a log of `size`
    /// entries, largest subtree first.
    public static func frontierPositions(size: UInt64) -> [(level: Int, index: UInt64)] {
        var positions: [(Int, UInt64)] = []
        var start: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (1 << UInt64(level)) != 0 {
            positions.append((level, start >> UInt64(level)))
            start += 1 << UInt64(level)
        }
        return positions
    }

    /// nil unless `frontier` holds one hash per frontier position of `size`.
    public init?(size: UInt64, frontier: [MerkleHash]) {
        let positions = Self.frontierPositions(size: size)
        guard positions.count == frontier.count else { return nil }
        self.size = size
        self.frontier = zip(positions, frontier).map { ($0.0.level, $0.1) }
    }

    public static var empty: LogAppender { LogAppender(size: 0, frontier: [])! }

    /// Appends one entry; returns the stored hashes it adds (its leaf, and
    /// each subtree it completes), for the store to write.
    public mutating func append(_ entry: [UInt8]) -> [StoredHash] {
        let index = size
        var added = [StoredHash(level: 0, index: index, hash: .leaf(entry))]
        var node = (level: 0, hash: added[0].hash)
        var position = index
        // Equal neighbours on the frontier merge, as a binary counter carries.
        while let last = frontier.last, last.level == node.level {
            frontier.removeLast()
            node = (node.level + 1, .node(last.hash, node.hash))
            position >>= 1
            added.append(StoredHash(level: node.level, index: position, hash: node.hash))
        }
        frontier.append(node)
        size += 1
        return added
    }

    /// The root of the log as it now stands (MTH of all `size` entries).
    public var root: MerkleHash {
        guard var root = frontier.last?.hash else { return .emptyTree }
        for subtree in frontier.dropLast().reversed() { root = .node(subtree.hash, root) }
        return root
    }
}
