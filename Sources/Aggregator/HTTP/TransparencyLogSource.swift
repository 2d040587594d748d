import TransparencyLog

/// What the HTTP server serves of the transparency log (c2sp.org/tlog-tiles):
/// the checkpoint and the tiles and entry bundles below it.
public protocol TransparencyLogSource: Sendable {
    /// The checkpoint to serve at `/log/checkpoint`, as a signed note: the
    /// log's newest, or with witnesses the newest that reached the quorum.
    func checkpoint() async throws -> String
    /// The log's newest checkpoint signed by its key alone (what witnesses
    /// are asked to cosign).
    func signedCheckpoint() async throws -> String
    /// The bytes of `tile`; nil when the log has not grown that far.
    func data(of tile: Tile) async throws -> [UInt8]?
    /// Size, cosigned size and witnesses, for the API and the dashboard.
    func status() async throws -> TransparencyLogStatus
    /// A c2sp.org/tlog-proof that the message `serial`/`sequence` is in the
    /// log of the checkpoint `note` (one this log signed); nil when that
    /// checkpoint does not hold it.
    func proof(serial: String, sequence: UInt64, against note: String) async throws -> TlogProof?
}

extension TransparencyLogSource {
    /// Without witnesses both checkpoints are the same.
    public func signedCheckpoint() async throws -> String { try await checkpoint() }

    /// The proof against the checkpoint `/log/checkpoint` serves.
    public func proof(serial: String, sequence: UInt64) async throws -> TlogProof? {
        try await proof(serial: serial, sequence: sequence, against: try await checkpoint())
    }
}
