import Agent
import ArgumentParser
import TransparencyLog

/// `fieldproof decode --proof` for c2sp.org/tlog-proof@v1 proofs: the entry
/// given with --entry is in the log whose key is --log-key, at the index the
/// proof names, under a checkpoint enough of the --witness-key witnesses
/// cosigned. Offline: nothing but the files and the keys.
extension DecodeCommand {
    func checkTlogProof(_ bytes: [UInt8]) throws {
        guard let entry, let logKey else {
            throw ValidationError("a tlog proof needs --entry (the logged message) and --log-key (the log's verifier key)")
        }
        let verifier: NoteVerifier
        let witnesses: [TlogProof.TrustedWitness]
        do {
            verifier = try NoteVerifier(verifierKey: logKey)
            witnesses = try witnessKey.map { text throws(NoteError) in try TlogProof.TrustedWitness(verifierKey: text) }
        } catch {
            throw ValidationError("\(error)")
        }
        guard quorum >= 0, quorum <= witnesses.count else {
            throw ValidationError("--quorum \(quorum) needs at least that many --witness-key")
        }
        let verified: TlogProof.Verified
        let proof: TlogProof
        do {
            proof = try TlogProof(text: String(decoding: bytes, as: UTF8.self))
            let leaf = MerkleHash.leaf(try InputBytes.read(entry))
            verified = try proof.verify(leaf: leaf, origin: verifier.name, log: [verifier], witnesses: witnesses, quorum: quorum)
        } catch let error as NoteError {
            if json {
                print(JSONText.object([("valid", .bool(false)), ("reason", .string(error.description))]).render())
            } else {
                FileHandleText.standardError("fieldproof: the proof does not hold: \(error.description)")
            }
            throw ExitCode(2)
        }
        if json {
            print(JSONText.object([
                ("valid", .bool(true)), ("origin", .string(verified.checkpoint.origin)), ("index", .unsigned(proof.index)),
                ("treeSize", .unsigned(verified.checkpoint.size)), ("root", .string(verified.checkpoint.root.base64)),
                ("witnesses", .array(verified.witnesses.map { .string($0) })),
            ]).render())
            return
        }
        print("log        \(verified.checkpoint.origin): checkpoint of \(verified.checkpoint.size) entries signed by its key: valid")
        print("entry      index \(proof.index), included under root \(verified.checkpoint.root.base64): valid")
        print("witnesses  \(verified.witnesses.isEmpty ? "none checked" : verified.witnesses.joined(separator: ", ")) (quorum \(quorum))")
    }
}
