import Crypto
import Foundation
import Testing
@testable import TransparencyLog

/// c2sp.org/tlog-proof@v1: an entry, its inclusion proof and a cosigned
/// checkpoint, checked offline against the log's key and a witness quorum.
@Suite struct TlogProofTests {
    static let origin = "fieldproof.example/log"
    let logSigner = try! NoteSigner(name: TlogProofTests.origin, key: Curve25519.Signing.PrivateKey())
    let cosigners = (1...3).map { try! Cosigner(name: "witness\($0).example", key: Curve25519.Signing.PrivateKey()) }

    /// A proof for entry `index` in a tree of 20, its checkpoint cosigned by
    /// the first `cosigned` witnesses through their add-checkpoint.
    func proof(index: Int, cosigned: Int) throws -> (TlogProof, MerkleTree) {
        var tree = MerkleTree()
        for entry in 0..<20 { tree.append(Array("entry \(entry)".utf8)) }
        let checkpoint = Checkpoint(origin: Self.origin, size: 20, root: tree.root(size: 20)!)
        var note = try SignedNote.sign(checkpoint.text, by: [logSigner])
        for cosigner in cosigners.prefix(cosigned) {
            let witness = Witness(cosigner: cosigner, logs: [Self.origin: [logSigner.verifier]], recorded: [:]) { _ in }
            let answer = witness.addCheckpoint(Array("old 0\n\n\(note)".utf8), time: 1_700_000_000)
            #expect(answer.status == 200, "\(answer.body)")
            note += answer.body
        }
        return (TlogProof(extra: [1, 2, 3], index: UInt64(index), inclusion: tree.inclusionProof(index: index, size: 20)!, checkpoint: note), tree)
    }

    var trusted: [TlogProof.TrustedWitness] {
        cosigners.map { .init(name: $0.name, publicKeyBytes: Array($0.publicKey.rawRepresentation)) }
    }

    @Test func aCosignedProofVerifiesOfflineAndReadsBackFromItsText() throws {
        let (proof, tree) = try proof(index: 7, cosigned: 2)
        #expect(proof.text.hasPrefix("c2sp.org/tlog-proof@v1\nextra AQID\nindex 7\n"))
        let parsed = try TlogProof(text: proof.text)
        #expect(parsed == proof)
        let verified = try parsed.verify(leaf: tree.leaves[7], origin: Self.origin, log: [logSigner.verifier], witnesses: trusted, quorum: 2)
        #expect(verified.checkpoint.size == 20)
        #expect(Set(verified.witnesses) == ["witness1.example", "witness2.example"])
    }

    @Test func aMissingQuorumAnotherEntryOrAnotherLogIsNotProven() throws {
        let (proof, tree) = try proof(index: 7, cosigned: 1)
        #expect(throws: NoteError.notProven("1 of the 2 witness cosignatures required")) {
            try proof.verify(leaf: tree.leaves[7], origin: Self.origin, log: [logSigner.verifier], witnesses: trusted, quorum: 2)
        }
        #expect(throws: NoteError.self) {
            try proof.verify(leaf: tree.leaves[8], origin: Self.origin, log: [logSigner.verifier], witnesses: trusted, quorum: 1)
        }
        #expect(throws: NoteError.self) {
            try proof.verify(leaf: tree.leaves[7], origin: "other.example/log", log: [logSigner.verifier])
        }
        let stranger = try NoteSigner(name: Self.origin, key: Curve25519.Signing.PrivateKey())
        #expect(throws: NoteError.noVerifiedSignature) {
            try proof.verify(leaf: tree.leaves[7], origin: Self.origin, log: [stranger.verifier])
        }
    }

    @Test func malformedProofTextsAreRefused() throws {
        let (proof, _) = try proof(index: 3, cosigned: 0)
        let text = proof.text
        for bad in [
            text.replacingOccurrences(of: "c2sp.org/tlog-proof@v1", with: "c2sp.org/tlog-proof@v2"),
            text.replacingOccurrences(of: "index 3", with: "index 03"),
            text.replacingOccurrences(of: "index 3", with: "index"),
            text.replacingOccurrences(of: "extra AQID", with: "extra !!"),
            text.replacingOccurrences(of: "\n\n\(Self.origin)", with: "\n\(Self.origin)"),
        ] {
            #expect(throws: NoteError.self, "\(bad)") { try TlogProof(text: bad) }
        }
        let long = "c2sp.org/tlog-proof@v1\nindex 0\n" + String(repeating: MerkleHash.emptyTree.base64 + "\n", count: 65) + "\n" + proof.checkpoint
        #expect(throws: NoteError.self) { try TlogProof(text: long) }
    }
}
