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
}

extension TransparencyLogSource {
    /// Without witnesses both checkpoints are the same.
    public func signedCheckpoint() async throws -> String { try await checkpoint() }
}
