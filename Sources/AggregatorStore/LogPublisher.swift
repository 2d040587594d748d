import Aggregator
import TransparencyLog

/// The store's transparency log as the HTTP server serves it: a checkpoint
/// signed by the aggregator's log key (re-signed only when the log has
/// grown), and tiles and entry bundles read from the stored hashes and
/// entries (c2sp.org/tlog-tiles, tile height 8).
public actor LogPublisher: TransparencyLogSource {
    private let store: any AggregatorDataStore
    private let signer: NoteSigner
    private var signed: (size: UInt64, note: String)?

    public init(store: any AggregatorDataStore, signer: NoteSigner) {
        self.store = store
        self.signer = signer
    }

    public func checkpoint() async throws -> String {
        let head = try await store.logHead()
        if let signed, signed.size == head.size { return signed.note }
        let note = try SignedNote.sign(Checkpoint(origin: signer.verifier.name, size: head.size, root: head.root).text, by: [signer])
        // Two requests may race here; keep the larger log's note.
        if signed.map({ $0.size < head.size }) ?? true { signed = (head.size, note) }
        return note
    }

    public func status() async throws -> TransparencyLogStatus {
        TransparencyLogStatus(origin: signer.verifier.name, size: try await store.logSize())
    }

    public nonisolated func proof(serial: String, sequence: UInt64, against note: String) async throws -> TlogProof? {
        let checkpoint = try Checkpoint(text: try SignedNote.open(Array(note.utf8), verifiers: [signer.verifier]).text)
        guard let index = try await store.logIndex(serial: serial, sequence: sequence), index < checkpoint.size,
              let path = try await store.logProofs(size: checkpoint.size).inclusionProof(index: index) else { return nil }
        return TlogProof(index: index, inclusion: path, checkpoint: note)
    }

    /// A consistency proof between two sizes of the log, for witnesses
    /// (nil when `old` is above `new`).
    public nonisolated func consistencyProof(from old: UInt64, to new: UInt64) async throws -> [MerkleHash]? {
        try await store.logProofs(size: new).consistencyProof(from: old)
    }

    /// A tile exists once all its entries (or stored hashes) do: counting
    /// what the range query returns is the check, with no read of the head.
    /// A request's index can be anything below 2^64; the stores count in
    /// Int64, and no log reaches 2^63 entries.
    public nonisolated func data(of tile: Tile) async throws -> [UInt8]? {
        guard let range = tile.entryRange, range.end <= UInt64(Int64.max) else { return nil }
        switch tile.kind {
        case .entries:
            let entries = try await store.logEntries(from: range.start, count: tile.width)
            guard entries.count == tile.width else { return nil }
            return Tile.entryBundle(entries)
        case let .hashes(level):
            // A tile's hashes at level L are the stored hashes at tree level 8·L.
            let hashes = try await store.logHashes(level: level * 8, from: tile.index * UInt64(Tile.width), count: tile.width)
            guard hashes.count == tile.width else { return nil }
            return hashes.flatMap(\.bytes)
        }
    }
}
