import Hummingbird
import NIOCore
import TransparencyLog
import Wire

extension AggregatorHTTPServer {
    /// c2sp.org/tlog-tiles: the checkpoint changes (a few seconds of caching
    /// at most); full tiles never do, partial ones only until they fill.
    func addLogRoutes(to router: Router<BasicRequestContext>, log: any TransparencyLogSource) {
        router.get("/log/checkpoint") { _, _ in
            var response = Self.text(try await log.checkpoint())
            response.headers[.cacheControl] = "max-age=2"
            return response
        }
        router.get("/log/latest-checkpoint") { _, _ in
            var response = Self.text(try await log.signedCheckpoint())
            response.headers[.cacheControl] = "max-age=2"
            return response
        }
        router.get("/api/v1/log") { _, _ in try Self.json(try await log.status()) }
        // The message's place in the log, against the served checkpoint:
        // what `fieldproof decode --proof` checks offline.
        router.get("/api/v1/log/proofs/:serial/:sequence") { _, context in
            guard let serial = context.parameters.get("serial"), Serial.isValid(serial),
                  let sequence = context.parameters.get("sequence").flatMap({ UInt64($0) }) else {
                throw HTTPError(.badRequest, message: "expected /api/v1/log/proofs/<serial>/<sequence>")
            }
            guard let proof = try await log.proof(serial: serial, sequence: sequence) else {
                throw HTTPError(.notFound, message: "\(serial)/\(sequence) is not in the checkpoint served now (not stored, or logged after it: "
                                + "a new checkpoint comes every log.checkpoint_interval)")
            }
            return Self.text(proof.text)
        }
        router.get("/log/tile/**") { request, _ in
            let path = String(request.uri.path.dropFirst("/log/".count))
            guard path.count <= 64, let tile = Tile(path: path) else {
                throw HTTPError(.notFound, message: "not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N as x001/x234/067")
            }
            guard let data = try await log.data(of: tile) else {
                throw HTTPError(.notFound, message: "the log has no \(tile.path) (yet)")
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream",
                                                   .cacheControl: tile.isPartial ? "max-age=2" : "public, max-age=31536000, immutable"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
