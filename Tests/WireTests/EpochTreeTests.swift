import Crypto
import Testing
@testable import Wire

/// RFC 6962 trees against the Certificate Transparency reference vectors
/// (the eight leaves of CT's merkle_tree tests, also used by
/// RFC 9162 implementations).
@Suite struct EpochTreeTests {
    static let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .map { EpochTree.leafHash(hex($0)) }

    /// The roots of these leaves are checked in TransparencyLogTests
    /// (MerkleTreeTests); here, that the epoch tree's byte interface gives
    /// the same tree: the root of all eight, and the audit paths.
    @Test func theRootOfAllEightIsTheReference() {
        #expect(hexString(EpochTree.root(Self.leaves)) == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        #expect(hexString(EpochTree.root([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(EpochTree.inclusionProof(index: 0, leaves: [[1, 2, 3]]) == nil, "a leaf that is not a 32-byte hash")
    }

    @Test func auditPathsMatchTheReference() throws {
        let first = try #require(EpochTree.inclusionProof(index: 0, leaves: Self.leaves))
        #expect(first.map(hexString) == ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                                         "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                                         "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"])
        let sixth = try #require(EpochTree.inclusionProof(index: 5, leaves: Self.leaves))
        #expect(sixth.map(hexString) == ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                                         "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"])
    }

    /// Every leaf of every tree up to 37 leaves proves its inclusion; the
    /// wrong leaf, index, a size the index is not in, a changed or an extra
    /// path node does not.
    @Test func everyProofVerifiesAndNoTamperedOneDoes() throws {
        let many = (0..<37).map { EpochTree.leafHash([UInt8($0), UInt8($0 &* 7)]) }
        for size in 1...many.count {
            let leaves = Array(many.prefix(size))
            let root = EpochTree.root(leaves)
            for index in 0..<size {
                let proof = try #require(EpochTree.inclusionProof(index: index, leaves: leaves))
                #expect(EpochTree.verify(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: proof, root: root))
                let other = leaves[(index + 1) % size]
                if size > 1 {
                    #expect(!EpochTree.verify(leaf: other, index: UInt64(index), size: UInt64(size), proof: proof, root: root))
                    #expect(!EpochTree.verify(leaf: leaves[index], index: UInt64((index + 1) % size), size: UInt64(size), proof: proof, root: root))
                    var bent = proof
                    bent[0][0] ^= 1
                    #expect(!EpochTree.verify(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: bent, root: root))
                }
                #expect(!EpochTree.verify(leaf: leaves[index], index: UInt64(index), size: UInt64(index), proof: proof, root: root))
                #expect(!EpochTree.verify(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: proof + [root], root: root))
            }
        }
    }

    /// A whole proof: device-signed message, aggregator-signed epoch root.
    @Test func anInclusionProofChecksOfflineAndRefusesTampering() throws {
        let device = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 32))
        let aggregator = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 2, count: 32))
        let messages = try (1...5).map { sequence in
            try COSESign1.sign(payload: sampleTelemetry(sequence: UInt64(sequence)).encode(), with: device, keyID: KeyID.of(device.publicKey))
        }
        let leaves = messages.map { Array(SHA256.hash(data: $0)) }.sorted { $0.lexicographicallyPrecedes($1) }.map(EpochTree.leafHash)
        let root = EpochRoot(id: "2026-11-25T17", start: 1_795_626_000_000, end: 1_795_629_600_000, messageCount: 5,
                             root: EpochTree.root(leaves), time: 1_795_629_900_000)
        let signedRoot = try COSESign1.sign(payload: root.encode(), with: aggregator, keyID: KeyID.of(aggregator.publicKey))
        let index = try #require(leaves.firstIndex(of: EpochTree.leafHash(Array(SHA256.hash(data: messages[2])))))
        let proof = InclusionProof(epoch: signedRoot, message: messages[2], devicePublicKey: Array(device.publicKey.rawRepresentation),
                                   leafIndex: UInt64(index), path: try #require(EpochTree.inclusionProof(index: index, leaves: leaves)))
        let decoded = try InclusionProof(decoding: proof.encode())
        let checked = try decoded.check(aggregatorKey: aggregator.publicKey)
        #expect(checked.telemetry.sequence == 3 && checked.epoch == root && checked.aggregatorVerified)

        #expect(throws: WireError.self) { try decoded.check(aggregatorKey: device.publicKey) }
        var otherMessage = decoded
        otherMessage.message = messages[3]
        #expect(throws: WireError.self) { try otherMessage.check(aggregatorKey: aggregator.publicKey) }
        var otherKey = decoded
        otherKey.devicePublicKey = Array(aggregator.publicKey.rawRepresentation)
        #expect(throws: WireError.self) { try otherKey.check(aggregatorKey: aggregator.publicKey) }
    }
}
