import Crypto
import FoundationEssentials
import Hummingbird
import Identity
import LinuxService
import NIOCore
import TransparencyLog

/// The witness over HTTP (c2sp.org/tlog-witness): `POST /add-checkpoint`,
/// with its record of cosigned checkpoints in a JSON file written durably
/// before each cosignature leaves.
struct WitnessServer {
    let configuration: WitnessConfiguration
    let witness: Witness
    let cosigner: Cosigner

    init(configuration: WitnessConfiguration) throws {
        self.configuration = configuration
        try FileIO.makeDirectory(configuration.stateDirectory)
        let seed = try DeviceSecret.loadOrCreate(at: configuration.keyFile).bytes
        cosigner = try Cosigner(name: configuration.name, key: try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
        let stateFile = configuration.stateFile
        let recorded: [String: Witness.Recorded] = try FileIO.readFile(stateFile, limit: 16 << 20).map {
            try JSONDecoder().decode([String: Witness.Recorded].self, from: Data($0))
        } ?? [:]
        witness = Witness(cosigner: cosigner, logs: configuration.logs, recorded: recorded) { state in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try FileIO.writeAtomically(stateFile, Array(try encoder.encode(state)), mode: 0o600)
        }
    }

    func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.post("/add-checkpoint") { [witness] request, _ -> Response in
            let body = try await request.body.collect(upTo: Witness.maximumBodyBytes)
            let answer = witness.addCheckpoint(Array(buffer: body), time: WallClock.milliseconds() / 1000)
            return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType],
                            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fieldproof-witness"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
    }
}
