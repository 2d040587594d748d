import Crypto
import Foundation
import Synchronization
import Testing
@testable import TransparencyLog

/// The c2sp.org/tlog-witness decisions: cosign only what extends what was
/// cosigned before, with the spec's status codes for everything else.
@Suite struct WitnessTests {
    static let origin = "fieldproof.example/log"
    let logSigner = try! NoteSigner(name: WitnessTests.origin, key: Curve25519.Signing.PrivateKey())
    let cosigner = try! Cosigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey())
    /// What the witness last handed to `persist`.
    final class Saved: Sendable {
        let state = Mutex<[String: Witness.Recorded]?>(nil)
    }
    let saved = Saved()

    func witness(failingToPersist: Bool = false) -> Witness {
        Witness(cosigner: cosigner, logs: [Self.origin: [logSigner.verifier]], recorded: [:]) { [saved] state in
            if failingToPersist { throw CocoaError(.fileWriteNoPermission) }
            saved.state.withLock { $0 = state }
        }
    }

    func tree(_ size: Int, rewriting rewritten: Int? = nil) -> MerkleTree {
        var tree = MerkleTree()
        for index in 0..<size { tree.append(Array((index == rewritten ? "forged \(index)" : "entry \(index)").utf8)) }
        return tree
    }

    func request(old: Int, proof: [MerkleHash], checkpoint: Checkpoint, signer: NoteSigner? = nil) throws -> [UInt8] {
        let note = try SignedNote.sign(checkpoint.text, by: [signer ?? logSigner])
        return Array((["old \(old)"] + proof.map(\.base64)).map { $0 + "\n" }.joined().utf8) + [0x0A] + Array(note.utf8)
    }

    func checkpoint(_ tree: MerkleTree, size: Int? = nil) -> Checkpoint {
        let size = size ?? tree.count
        return Checkpoint(origin: Self.origin, size: UInt64(size), root: tree.root(size: size)!)
    }

    @Test func itCosignsAGrowingLogAndAnswersAStaleSizeWith409() throws {
        let witness = witness()
        let log = tree(12)
        let first = witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(log, size: 5)), time: 1_700_000_000)
        #expect(first.status == 200, "\(first.body)")
        #expect(Cosigner.verify(line: first.body, checkpoint: checkpoint(log, size: 5), name: cosigner.name, publicKey: cosigner.publicKey) == 1_700_000_000)
        #expect(Cosigner.verify(line: first.body, checkpoint: checkpoint(log, size: 6), name: cosigner.name, publicKey: cosigner.publicKey) == nil,
                "a cosignature is for one checkpoint")
        #expect(saved.state.withLock { $0?[Self.origin]?.size } == 5, "recorded before answering")

        let second = witness.addCheckpoint(try request(old: 5, proof: log.consistencyProof(from: 5, to: 9)!, checkpoint: checkpoint(log, size: 9)), time: 1_700_000_010)
        #expect(second.status == 200, "\(second.body)")
        let stale = witness.addCheckpoint(try request(old: 5, proof: log.consistencyProof(from: 5, to: 12)!, checkpoint: checkpoint(log, size: 12)), time: 1_700_000_020)
        #expect(stale == Witness.Response(status: 409, contentType: "text/x.tlog.size", body: "9\n"))
        #expect(witness.recorded[Self.origin]?.size == 9)
        // The same checkpoint again: consistent with itself.
        #expect(witness.addCheckpoint(try request(old: 9, proof: [], checkpoint: checkpoint(log, size: 9)), time: 1_700_000_030).status == 200)
    }

    @Test func aLogThatRewritesAnEntryOrShrinksIsRefused() throws {
        let witness = witness()
        let honest = tree(12)
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(honest, size: 9)), time: 1).status == 200)
        // Entry 3 rewritten: the new tree is not an extension of the cosigned one.
        let forked = tree(12, rewriting: 3)
        let fork = witness.addCheckpoint(try request(old: 9, proof: forked.consistencyProof(from: 9, to: 12)!, checkpoint: checkpoint(forked)), time: 2)
        #expect(fork.status == 422, "\(fork.body)")
        // Same size, other root.
        #expect(witness.addCheckpoint(try request(old: 9, proof: [], checkpoint: checkpoint(forked, size: 9)), time: 3).status == 422)
        // Shrinking: an old size above the checkpoint's is a bad request; from 0 it is told the size held.
        #expect(witness.addCheckpoint(try request(old: 9, proof: [], checkpoint: checkpoint(honest, size: 7)), time: 4).status == 400)
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(honest, size: 7)), time: 5).body == "9\n")
        #expect(witness.recorded[Self.origin] == Witness.Recorded(size: 9, root: honest.root(size: 9)!.base64), "nothing refused was recorded")
    }

    @Test func unknownLogsForeignSignaturesAndMalformedRequestsGetTheSpecsCodes() throws {
        let witness = witness()
        let log = tree(4)
        let stranger = try NoteSigner(name: Self.origin, key: Curve25519.Signing.PrivateKey())
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(log), signer: stranger), time: 1).status == 403)
        let other = Checkpoint(origin: "other.example/log", size: 4, root: log.root(size: 4)!)
        let otherSigner = try NoteSigner(name: "other.example/log", key: Curve25519.Signing.PrivateKey())
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: other, signer: otherSigner), time: 1).status == 404)
        var tampered = try request(old: 0, proof: [], checkpoint: checkpoint(log))
        tampered[tampered.count - 10] ^= 0x01 // inside the log's signature
        #expect([400, 403].contains(witness.addCheckpoint(tampered, time: 1).status))
        let emptyWithRoot = Checkpoint(origin: Self.origin, size: 0, root: .leaf([]))
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: emptyWithRoot), time: 1).status == 422)
        #expect(witness.addCheckpoint(try request(old: 0, proof: [log.leaves[0]], checkpoint: checkpoint(log)), time: 1).status == 422,
                "from 0 the proof is empty")
        #expect(witness.addCheckpoint(try request(old: 0, proof: Array(repeating: log.leaves[0], count: 64), checkpoint: checkpoint(log)), time: 1).status == 400)
        #expect(witness.addCheckpoint(Array("old 00\n\n".utf8) + Array(try SignedNote.sign(checkpoint(log).text, by: [logSigner]).utf8), time: 1).status == 400)
        #expect(witness.addCheckpoint(Array("old 0\nnot base64!\n\n".utf8), time: 1).status == 400)
        #expect(witness.addCheckpoint(Array("old 0\n".utf8), time: 1).status == 400)
        #expect(witness.addCheckpoint([UInt8](repeating: 0x41, count: Witness.maximumBodyBytes + 1), time: 1).status == 400)
        #expect(witness.recorded.isEmpty)
    }

    @Test func aCheckpointThatCannotBeRecordedIsNotCosigned() throws {
        let witness = witness(failingToPersist: true)
        let response = witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(tree(3))), time: 1)
        #expect(response.status == 500)
        #expect(!response.body.hasPrefix("\u{2014}"))
        #expect(witness.recorded.isEmpty)
    }

    /// Requests racing from one recorded size: exactly one is cosigned, the
    /// others learn the new size; the record never moves back.
    @Test func racingRequestsCannotRollTheRecordBack() async throws {
        let witness = witness()
        let log = tree(40)
        #expect(witness.addCheckpoint(try request(old: 0, proof: [], checkpoint: checkpoint(log, size: 10)), time: 1).status == 200)
        let bodies = try (11...40).map { try request(old: 10, proof: log.consistencyProof(from: 10, to: $0)!, checkpoint: checkpoint(log, size: $0)) }
        let statuses = await withTaskGroup(of: Int.self) { group in
            for body in bodies { group.addTask { witness.addCheckpoint(body, time: 2).status } }
            var all: [Int] = []
            for await status in group { all.append(status) }
            return all
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == bodies.count - 1)
        #expect((witness.recorded[Self.origin]?.size ?? 0) > 10)
    }

    @Test func aConflictAnswersSizeIsADecimalWithoutLeadingZerosAndANewline() {
        let size = { (text: String) in Witness.heldSize(inConflictAnswer: Array(text.utf8)) }
        #expect(size("0\n") == 0 && size("5\n") == 5 && size("18446744073709551615\n") == UInt64.max)
        for refused in ["05\n", "5", "\n", "", "5 \n", "-1\n", "18446744073709551616\n", "0x5\n", "5\n\n"] {
            #expect(size(refused) == nil, "\(refused.debugDescription)")
        }
    }
}
