import TransparencyLog

/// What the HTTP server serves of the transparency log (c2sp.org/tlog-tiles):
/// the signed checkpoint and the tiles and entry bundles below it.
public protocol TransparencyLogSource: Sendable {
    /// The log's current checkpoint as a signed note.
    func checkpoint() async throws -> String
    /// The bytes of `tile`; nil when the log has not grown that far.
    func data(of tile: Tile) async throws -> [UInt8]?
}
