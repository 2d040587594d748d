import Crypto

/// An offline-verifiable proof that an entry is in a log
/// (c2sp.org/tlog-proof@v1): the entry's index, its inclusion proof, and
/// the log's checkpoint verbatim, with whatever cosignatures it carries.
///
///     c2sp.org/tlog-proof@v1
///     [extra <base64>]
///     index <n>
///     <base64 hash>...
///
///     <checkpoint note>
public struct TlogProof: Equatable, Sendable {
    static let header = "c2sp.org/tlog-proof@v1"

    /// Opaque, unauthenticated data the application may need.
    public var extra: [UInt8]?
    public var index: UInt64
    public var inclusion: [MerkleHash]
    /// The signed checkpoint note, byte for byte as the log served it.
    public var checkpoint: String

    public init(extra: [UInt8]? = nil, index: UInt64, inclusion: [MerkleHash], checkpoint: String) {
        self.extra = extra
        self.index = index
        self.inclusion = inclusion
        self.checkpoint = checkpoint
    }

    public var text: String {
        var lines = [Self.header]
        if let extra { lines.append("extra " + Base64.encode(extra)) }
        lines.append("index \(index)")
        lines += inclusion.map(\.base64)
        return lines.map { $0 + "\n" }.joined() + "\n" + checkpoint
    }

    public init(text: String) throws(NoteError) {
        guard text.utf8.count <= SignedNote.maximumBytes + 64 * 46 + 1024 else { throw .tooLarge }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.header) else { throw .malformed("a tlog proof starts with \(Self.header)") }
        var extra: [UInt8]?
        if let line = lines.first, line.hasPrefix("extra ") {
            guard let bytes = Base64.decode(line.dropFirst(6)) else { throw .malformed("the extra line is not base64") }
            extra = bytes
            lines.removeFirst()
        }
        guard let indexLine = lines.popFirst(), indexLine.hasPrefix("index "), let index = NoteEncoding.decimal(indexLine.dropFirst(6)) else {
            throw .malformed("expected `index <n>` without leading zeros")
        }
        var inclusion: [MerkleHash] = []
        while let line = lines.first, !line.isEmpty {
            guard inclusion.count < MerkleProof.maximumLength, let hash = MerkleHash(base64: line) else {
                throw .malformed("an inclusion proof line is not a base64 hash, or there are more than 64")
            }
            inclusion.append(hash)
            lines.removeFirst()
        }
        guard lines.popFirst() == "" else { throw .malformed("an empty line must come before the checkpoint") }
        self.init(extra: extra, index: index, inclusion: inclusion, checkpoint: lines.joined(separator: "\n"))
    }

    /// What a verified proof establishes.
    public struct Verified: Equatable, Sendable {
        public var checkpoint: Checkpoint
        /// Names of the witnesses whose cosignatures verified.
        public var witnesses: [String]
    }

    /// A witness a verifier trusts: its name and Ed25519 cosigning key.
    public struct TrustedWitness: Sendable {
        public var name: String
        public var publicKeyBytes: [UInt8]
        public init(name: String, publicKeyBytes: [UInt8]) {
            self.name = name
            self.publicKeyBytes = publicKeyBytes
        }

        /// From a cosigner verifier key, `<name>+<hex ID>+base64(0x04 || key)`
        /// (what `fieldproof-witness verifier-key` prints); the ID must match.
        public init(verifierKey text: String) throws(NoteError) {
            guard let (name, key) = NoteEncoding.parseVerifierKey(text, type: Cosigner.type) else { throw .badVerifierKey(text) }
            self.init(name: name, publicKeyBytes: Array(key.rawRepresentation))
        }

        /// The time (POSIX seconds) a cosignature line (ending in its
        /// newline) of this witness states, when it verifies on `checkpoint`.
        public func cosignatureTime(line: String, checkpoint: Checkpoint) -> UInt64? {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKeyBytes) else { return nil }
            return Cosigner.verify(line: line, checkpoint: checkpoint, name: name, publicKey: key)
        }
    }

    /// Checks, as c2sp.org/tlog-proof says: the checkpoint is the log's
    /// (signed by one of `log`, its origin `origin`), at least `quorum` of
    /// `witnesses` cosigned it, and the entry hashed `leaf` is at `index`.
    public func verify(leaf: MerkleHash, origin: String, log: [NoteVerifier], witnesses: [TrustedWitness] = [],
                       quorum: Int = 0) throws(NoteError) -> Verified {
        let verified = try Self.verifyCheckpoint(Array(checkpoint.utf8), origin: origin, log: log, witnesses: witnesses, quorum: quorum)
        guard MerkleProof.verifyInclusion(leaf: leaf, index: index, size: verified.checkpoint.size, proof: inclusion,
                                          root: verified.checkpoint.root) else {
            throw .notProven("the inclusion proof does not lead to the checkpoint's root")
        }
        return verified
    }

    /// A signed checkpoint checked on its own: signed by one of `log`, of
    /// `origin`, and cosigned by at least `quorum` of `witnesses`.
    public static func verifyCheckpoint(_ note: [UInt8], origin: String, log: [NoteVerifier], witnesses: [TrustedWitness] = [],
                                        quorum: Int = 0) throws(NoteError) -> Verified {
        let text = try SignedNote.open(note, verifiers: log).text
        let parsed = try Checkpoint(text: text)
        guard parsed.origin == origin else { throw .notProven("the checkpoint is of \(parsed.origin), not \(origin)") }
        var cosigned: [String] = []
        for line in try SignedNote.split(note).lines {
            for witness in witnesses where !cosigned.contains(witness.name) {
                if witness.cosignatureTime(line: line + "\n", checkpoint: parsed) != nil { cosigned.append(witness.name) }
            }
        }
        guard cosigned.count >= quorum else {
            throw .notProven("\(cosigned.count) of the \(quorum) witness cosignatures required")
        }
        return Verified(checkpoint: parsed, witnesses: cosigned)
    }
}
