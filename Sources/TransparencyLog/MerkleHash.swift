import Crypto

/// A node of an RFC 6962 Merkle tree: SHA-256 with a one-byte prefix that
/// keeps leaves and interior nodes apart (0x00 for a leaf, 0x01 for a node),
/// so no leaf can pass for a subtree (RFC 9162 §2.1.1).
public struct MerkleHash: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// nil unless `bytes` is 32 long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    private init(digest: SHA256.Digest) {
        bytes = Array(digest)
    }

    /// The hash of an entry: SHA-256(0x00 || entry).
    public static func leaf(_ entry: [UInt8]) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: entry)
        return MerkleHash(digest: hasher.finalize())
    }

    /// The hash of an interior node: SHA-256(0x01 || left || right).
    public static func node(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left.bytes)
        hasher.update(data: right.bytes)
        return MerkleHash(digest: hasher.finalize())
    }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyTree = MerkleHash(digest: SHA256.hash(data: [UInt8]()))

    /// Standard base64 (RFC 4648 §4), as checkpoints and proofs carry it.
    public var base64: String { Base64.encode(bytes) }

    public init?(base64 text: Substring) {
        guard let bytes = Base64.decode(text) else { return nil }
        self.init(bytes: bytes)
    }

    public var description: String { base64 }
}
