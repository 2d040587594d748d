/// A C2SP checkpoint (c2sp.org/tlog-checkpoint): the note text naming a
/// log (origin), its size and its RFC 6962 root, plus optional extension
/// lines.
public struct Checkpoint: Equatable, Sendable {
    public var origin: String
    public var size: UInt64
    public var root: MerkleHash
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: MerkleHash, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text: origin, decimal size, base64 root, extensions; each
    /// line ending in a newline.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a note text strictly: three non-empty lines at least, a size
    /// without leading zeros, a 32-byte root.
    public init(text: String) throws(NoteError) {
        guard text.hasSuffix("\n") else { throw .malformed("a checkpoint's text ends in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, lines.allSatisfy({ !$0.isEmpty }) else {
            throw .malformed("a checkpoint is at least three non-empty lines: origin, size, root hash")
        }
        let sizeText = lines[1]
        guard let size = NoteEncoding.decimal(sizeText) else {
            throw .malformed("the tree size \"\(sizeText)\" is not a decimal number without leading zeros")
        }
        guard let root = MerkleHash(base64: lines[2]) else { throw .malformed("the root hash is not 32 bytes of base64") }
        self.init(origin: String(lines[0]), size: size, root: root, extensions: lines.dropFirst(3).map(String.init))
    }
}
