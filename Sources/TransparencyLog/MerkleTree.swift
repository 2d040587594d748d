/// The RFC 6962 Merkle tree over a list of entries, held in memory: roots,
/// inclusion proofs and consistency proofs for any size up to `count`, as
/// RFC 9162 §2.1 defines them.
///
/// It keeps the hash of every complete, aligned subtree (what Go's
/// sumdb/tlog calls stored hashes, and what C2SP tiles are cut from):
/// appending a leaf adds it and each parent it completes, so any MTH, and
/// with it any proof, is a few stored hashes combined, O(log n).
public struct MerkleTree: Sendable {
    /// `levels[l][i]`: MTH of entries [i·2^l, (i+1)·2^l).
    private var levels: [[MerkleHash]] = [[]]

    public init() {}

    public var count: Int { levels[0].count }

    /// The leaf hashes, by index.
    public var leaves: [MerkleHash] { levels[0] }

    /// Appends an entry (hashed as a leaf); returns its index.
    @discardableResult
    public mutating func append(_ entry: [UInt8]) -> Int {
        append(leaf: .leaf(entry))
    }

    /// Appends a leaf already hashed (`MerkleHash.leaf`); returns its index.
    @discardableResult
    public mutating func append(leaf: MerkleHash) -> Int {
        let index = count
        levels[0].append(leaf)
        // A right child completes its parent, which may complete its own.
        var level = 0
        var position = index
        while position & 1 == 1 {
            let parent = MerkleHash.node(levels[level][position - 1], levels[level][position])
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
            position >>= 1
        }
        return index
    }

    /// MTH(D[0:size]).
    public func root(size: Int) -> MerkleHash? {
        guard (0...count).contains(size) else { return nil }
        return size == 0 ? .emptyTree : hash(0..<size)
    }

    /// PATH(index, D[0:size]): the siblings from the leaf up.
    public func inclusionProof(index: Int, size: Int) -> [MerkleHash]? {
        guard size <= count, (0..<size).contains(index) else { return nil }
        return path(index, 0..<size)
    }

    /// PROOF(old, D[0:new]): what proves the tree of `new` entries extends
    /// the one of `old` entries. Empty when the sizes are equal.
    public func consistencyProof(from old: Int, to new: Int) -> [MerkleHash]? {
        guard new <= count, old <= new else { return nil }
        if old == new || old == 0 { return [] }
        return subproof(old, 0..<new, complete: true)
    }

    /// MTH(D[range]) for a non-empty range within the tree.
    public func hash(of range: Range<Int>) -> MerkleHash? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= count else { return nil }
        return hash(range)
    }

    private func hash(_ range: Range<Int>) -> MerkleHash {
        let width = range.count
        if width & (width - 1) == 0, range.lowerBound % width == 0 {
            return levels[width.trailingZeroBitCount][range.lowerBound / width]
        }
        let split = range.lowerBound + Self.largestPowerOfTwo(below: range.count)
        return .node(hash(range.lowerBound..<split), hash(split..<range.upperBound))
    }

    private func path(_ index: Int, _ range: Range<Int>) -> [MerkleHash] {
        if range.count == 1 { return [] }
        let split = range.lowerBound + Self.largestPowerOfTwo(below: range.count)
        if index < split {
            return path(index, range.lowerBound..<split) + [hash(split..<range.upperBound)]
        }
        return path(index, split..<range.upperBound) + [hash(range.lowerBound..<split)]
    }

    /// SUBPROOF(m, D[range], b) of RFC 9162 §2.1.4.1, `m` counted from the
    /// start of the whole tree.
    private func subproof(_ old: Int, _ range: Range<Int>, complete: Bool) -> [MerkleHash] {
        if old == range.upperBound { return complete ? [] : [hash(range)] }
        let split = range.lowerBound + Self.largestPowerOfTwo(below: range.count)
        if old <= split {
            return subproof(old, range.lowerBound..<split, complete: complete) + [hash(split..<range.upperBound)]
        }
        return subproof(old, split..<range.upperBound, complete: false) + [hash(range.lowerBound..<split)]
    }

    /// The largest power of two smaller than `n` (n > 1).
    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
