import TransparencyLog

/// An epoch's Merkle tree, in the byte arrays the epoch root and its proofs
/// carry: the leaves are the SHA-256 of its accepted messages, sorted, so
/// the same messages give the same root in any arrival order. The tree
/// itself is TransparencyLog's RFC 6962 tree (one implementation of the
/// hashing and the proofs in the project).
public enum EpochTree {
    /// SHA-256(0x00 || data).
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        MerkleHash.leaf(data).bytes
    }

    /// The root over leaf hashes (already `leafHash`ed); the empty tree's
    /// root is SHA-256 of nothing.
    public static func root(_ leaves: [[UInt8]]) -> [UInt8] {
        tree(leaves)?.root(size: leaves.count)?.bytes ?? MerkleHash.emptyTree.bytes
    }

    /// The audit path of leaf `index` (RFC 6962 §2.1.1), nearest sibling first.
    public static func inclusionProof(index: Int, leaves: [[UInt8]]) -> [[UInt8]]? {
        tree(leaves)?.inclusionProof(index: index, size: leaves.count)?.map(\.bytes)
    }

    /// Whether `leaf` (a leaf hash) is leaf `index` of a tree of `size`
    /// leaves with `root`, by the audit path (RFC 9162 §2.1.3.2).
    public static func verify(leaf: [UInt8], index: UInt64, size: UInt64, proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard let leaf = MerkleHash(bytes: leaf), let root = MerkleHash(bytes: root), proof.count <= MerkleProof.maximumLength else { return false }
        var path: [MerkleHash] = []
        for node in proof {
            guard let hash = MerkleHash(bytes: node) else { return false }
            path.append(hash)
        }
        return MerkleProof.verifyInclusion(leaf: leaf, index: index, size: size, proof: path, root: root)
    }

    /// nil when a leaf is not 32 bytes.
    private static func tree(_ leaves: [[UInt8]]) -> MerkleTree? {
        var tree = MerkleTree()
        for leaf in leaves {
            guard let hash = MerkleHash(bytes: leaf) else { return nil }
            tree.append(leaf: hash)
        }
        return tree
    }
}
