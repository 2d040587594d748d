/// Checks of RFC 9162 proofs (§2.1.3.2 inclusion, §2.1.4.2 consistency):
/// what a device or an auditor runs on proofs it was sent, so every input
/// is bounded first and a malformed proof is simply false.
public enum MerkleProof {
    /// A tree of at most 2^63 entries has no path longer than this.
    public static let maximumLength = 64

    /// Whether `proof` shows the entry hashed `leaf` at `index` in the tree
    /// of `size` entries whose root is `root`.
    public static func verifyInclusion(leaf: MerkleHash, index: UInt64, size: UInt64, proof: [MerkleHash], root: MerkleHash) -> Bool {
        guard index < size, proof.count <= maximumLength else { return false }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = .node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = .node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows the tree of `newSize` entries (root `newRoot`)
    /// extends the one of `oldSize` entries (root `oldRoot`).
    public static func verifyConsistency(oldSize: UInt64, oldRoot: MerkleHash, newSize: UInt64, newRoot: MerkleHash, proof: [MerkleHash]) -> Bool {
        guard oldSize <= newSize, proof.count <= maximumLength else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof[...]
        // A power-of-two old tree is itself a node of the new one: its root starts the walk.
        if oldSize & (oldSize - 1) == 0 { path = [oldRoot] + path }
        guard let first = path.first else { return false }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = .node(c, fr)
                sr = .node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = .node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}
