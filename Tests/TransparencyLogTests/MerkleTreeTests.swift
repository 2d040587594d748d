import Crypto
import Foundation
import Testing
@testable import TransparencyLog

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
func bytes(hex text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

/// RFC 6962 hashing and RFC 9162 proofs. The roots are the Certificate
/// Transparency reference vectors (the eight test leaves of the CT and
/// Trillian implementations); the interop test checks the same code against
/// Go's sumdb/tlog.
@Suite struct MerkleTreeTests {
    static let referenceLeaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
    static let referenceRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    func tree(_ count: Int) -> MerkleTree {
        var tree = MerkleTree()
        for index in 0..<count { tree.append(Array("entry \(index)".utf8)) }
        return tree
    }

    @Test func rootsMatchTheCertificateTransparencyVectors() {
        var tree = MerkleTree()
        #expect(hex(tree.root(size: 0)!.bytes) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of nothing")
        for (leaf, root) in zip(Self.referenceLeaves, Self.referenceRoots) {
            tree.append(bytes(hex: leaf))
            #expect(hex(tree.root(size: tree.count)!.bytes) == root, "root of \(tree.count)")
        }
    }

    @Test func everyInclusionProofVerifiesAndAnyChangeBreaksIt() {
        let tree = tree(21)
        for size in 1...tree.count {
            let root = tree.root(size: size)!
            for index in 0..<size {
                let proof = tree.inclusionProof(index: index, size: size)!
                let leaf = tree.leaves[index]
                #expect(MerkleProof.verifyInclusion(leaf: leaf, index: UInt64(index), size: UInt64(size), proof: proof, root: root))
                if size > 1 {
                    #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: UInt64((index + 1) % size), size: UInt64(size), proof: proof, root: root), "another index")
                }
                #expect(!MerkleProof.verifyInclusion(leaf: .leaf([0xFF]), index: UInt64(index), size: UInt64(size), proof: proof, root: root), "another entry")
                #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: UInt64(index), size: UInt64(size), proof: proof + [leaf], root: root), "one hash too many")
                if let last = proof.last {
                    #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: UInt64(index), size: UInt64(size), proof: proof.dropLast(), root: root), "one too few")
                    var changed = last.bytes
                    changed[0] ^= 1
                    #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: UInt64(index), size: UInt64(size),
                                                        proof: proof.dropLast() + [MerkleHash(bytes: changed)!], root: root), "a changed hash")
                }
            }
        }
    }

    @Test func everyConsistencyProofVerifiesAndAnyChangeBreaksIt() {
        let tree = tree(21)
        for new in 1...tree.count {
            let newRoot = tree.root(size: new)!
            for old in 1...new {
                let oldRoot = tree.root(size: old)!
                let proof = tree.consistencyProof(from: old, to: new)!
                #expect(MerkleProof.verifyConsistency(oldSize: UInt64(old), oldRoot: oldRoot, newSize: UInt64(new), newRoot: newRoot, proof: proof),
                        "\(old) -> \(new)")
                guard old < new else { continue }
                #expect(!MerkleProof.verifyConsistency(oldSize: UInt64(old), oldRoot: .leaf([1]), newSize: UInt64(new), newRoot: newRoot, proof: proof), "a forked old tree")
                #expect(!MerkleProof.verifyConsistency(oldSize: UInt64(old), oldRoot: oldRoot, newSize: UInt64(new), newRoot: .leaf([1]), proof: proof), "a rewritten new tree")
                #expect(!MerkleProof.verifyConsistency(oldSize: UInt64(old), oldRoot: oldRoot, newSize: UInt64(new), newRoot: newRoot, proof: []), "no proof")
                #expect(!MerkleProof.verifyConsistency(oldSize: UInt64(old), oldRoot: oldRoot, newSize: UInt64(new), newRoot: newRoot, proof: proof + [oldRoot]), "one too many")
                if old > 1 {
                    #expect(!MerkleProof.verifyConsistency(oldSize: UInt64(old - 1), oldRoot: oldRoot, newSize: UInt64(new), newRoot: newRoot, proof: proof), "another old size")
                }
            }
        }
    }

    /// A proof is what a device or auditor is sent: nonsense is false, never a trap.
    @Test func hostileProofInputsAreRefused() {
        let tree = tree(5)
        let root = tree.root(size: 5)!
        let leaf = tree.leaves[0]
        #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: 5, size: 5, proof: tree.inclusionProof(index: 4, size: 5)!, root: root))
        #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: 0, size: 0, proof: [], root: .emptyTree))
        #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: .max - 1, size: .max, proof: Array(repeating: leaf, count: 65), root: root))
        #expect(!MerkleProof.verifyInclusion(leaf: leaf, index: .max - 1, size: .max, proof: Array(repeating: leaf, count: 64), root: root))
        #expect(!MerkleProof.verifyConsistency(oldSize: 6, oldRoot: root, newSize: 5, newRoot: root, proof: []), "shrinking")
        #expect(!MerkleProof.verifyConsistency(oldSize: 5, oldRoot: root, newSize: 5, newRoot: .leaf([]), proof: []), "same size, other root")
        #expect(MerkleProof.verifyConsistency(oldSize: 0, oldRoot: .emptyTree, newSize: 5, newRoot: root, proof: []))
        #expect(!MerkleProof.verifyConsistency(oldSize: 1, oldRoot: leaf, newSize: .max, newRoot: root, proof: Array(repeating: leaf, count: 65)))
        #expect(tree.inclusionProof(index: 5, size: 5) == nil)
        #expect(tree.consistencyProof(from: 3, to: 6) == nil)
        #expect(tree.consistencyProof(from: 4, to: 3) == nil)
        #expect(tree.root(size: 6) == nil)
    }
}
