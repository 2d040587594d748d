import Hummingbird
import TransparencyLog

/// The log as served when witnesses are configured: `/log/checkpoint` is
/// the newest checkpoint that reached the quorum, with its cosignatures
/// (503 until one has); the log's own newest checkpoint and the tiles come
/// from `log` unchanged.
public struct WitnessedLog: TransparencyLogSource {
    public let log: any TransparencyLogSource
    public let collector: WitnessCollector

    public init(log: any TransparencyLogSource, collector: WitnessCollector) {
        self.log = log
        self.collector = collector
    }

    public func checkpoint() async throws -> String {
        guard let note = await collector.cosignedNote else {
            throw HTTPError(.serviceUnavailable, message: "no checkpoint has reached the witness quorum (\(collector.quorum)) yet; "
                            + "GET /api/v1/log shows each witness's state, /log/latest-checkpoint the log's own newest checkpoint")
        }
        return note
    }

    public func signedCheckpoint() async throws -> String { try await log.signedCheckpoint() }

    public func data(of tile: Tile) async throws -> [UInt8]? { try await log.data(of: tile) }

    public func proof(serial: String, sequence: UInt64, against note: String) async throws -> TlogProof? {
        try await log.proof(serial: serial, sequence: sequence, against: note)
    }

    public func status() async throws -> TransparencyLogStatus {
        let own = try await log.status()
        return await collector.status(origin: own.origin, size: own.size)
    }
}
