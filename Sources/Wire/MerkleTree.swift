import Crypto

/// The Merkle tree of RFC 6962 §2.1 (Certificate Transparency), over SHA-256:
/// a leaf is `SHA-256(0x00 || data)`, an interior node
/// `SHA-256(0x01 || left || right)`, the left subtree holds the largest
/// power of two of leaves below the count, and the empty tree's root is
/// `SHA-256("")`. An epoch's leaves are the SHA-256 of its accepted messages,
/// sorted, so the same messages give the same root in any arrival order.
/// Chosen over a home-made tree because its vectors and verifiers exist in
/// many languages.
public enum MerkleTree {
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: data)
        return Array(hasher.finalize())
    }

    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root over leaf hashes (already `leafHash`ed).
    public static func root(_ leaves: [[UInt8]]) -> [UInt8] {
        guard !leaves.isEmpty else { return Array(SHA256.hash(data: [UInt8]())) }
        return subtreeRoot(leaves[...])
    }

    private static func subtreeRoot(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.count == 1, let only = leaves.first { return only }
        let split = leaves.startIndex + largestPowerOfTwo(below: leaves.count)
        return nodeHash(subtreeRoot(leaves[..<split]), subtreeRoot(leaves[split...]))
    }

    /// The largest power of two smaller than `count` (count ≥ 2).
    private static func largestPowerOfTwo(below count: Int) -> Int {
        var power = 1
        while power * 2 < count { power *= 2 }
        return power
    }

    /// The audit path of leaf `index` (RFC 6962 §2.1.1), nearest sibling first.
    public static func inclusionProof(index: Int, leaves: [[UInt8]]) -> [[UInt8]]? {
        guard leaves.indices.contains(index) else { return nil }
        return path(index, leaves[...])
    }

    private static func path(_ index: Int, _ leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let half = largestPowerOfTwo(below: leaves.count)
        let split = leaves.startIndex + half
        if index < half {
            return path(index, leaves[..<split]) + [subtreeRoot(leaves[split...])]
        }
        return path(index - half, leaves[split...]) + [subtreeRoot(leaves[..<split])]
    }

    /// Whether `leaf` (a leaf hash) is leaf `index` of a tree of `size`
    /// leaves with `root`, by the audit path (RFC 9162 §2.1.3.2).
    public static func verify(leaf: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard index < size else { return false }
        var fn = index, sn = size - 1
        var hash = leaf
        for sibling in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                hash = nodeHash(sibling, hash)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                hash = nodeHash(hash, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && hash == root
    }
}
