import ConfigFile
import FoundationEssentials
import Hummingbird
import Logging
import NIOCore
import TransparencyLog
import LinuxService
import Units

/// The aggregator's HTTP API and dashboard (Hummingbird).
///
/// | route | what |
/// |---|---|
/// | `GET /` | dashboard page (server-rendered HTML and SVG, no scripts from elsewhere) |
/// | `GET /healthz` | `ok` while the service runs |
/// | `GET /metrics` | Prometheus text |
/// | `GET /api/v1/devices?limit=&cursor=`, `/api/v1/devices/{serial}` | device summaries (JSON) |
/// | `GET /api/v1/devices/{serial}/quality?epoch_start=` | data-quality score per metric with every check (JSON) |
/// | `GET /api/v1/tallies?device=&from=&to=&format=csv&units=&limit=&cursor=` | tallies (JSON, or CSV by `format=csv` or `Accept: text/csv`; CSV in °C, hPa, … with `units=display`) |
/// | `GET /api/v1/epochs?limit=&cursor=`, `/api/v1/epochs/{id}` | signed epochs |
/// | `GET /api/v1/dead-letters?device=&limit=&cursor=` | messages the store could not commit (`DeadLetter`) |
/// | `GET /api/v1/epochs/{id}/proofs/{serial}/{sequence}` | inclusion proof (CBOR): one message's, log2(epoch size) hashes |
/// | `GET /api/v1/log/proofs/{serial}/{sequence}` | c2sp.org/tlog-proof: the message in the log of the served checkpoint |
/// | `POST /api/v1/enrollments?serial=&expires=24h` | operator: one-time PIN (bearer token) |
/// | `POST /api/v1/devices/{serial}/revoke` | operator: revoke a device (bearer token) |
/// | `GET /log/checkpoint` | the transparency log's checkpoint (c2sp.org/tlog-checkpoint); with witnesses, the newest that reached their quorum, cosigned |
/// | `GET /log/latest-checkpoint` | the log's newest checkpoint, signed by the aggregator alone |
/// | `GET /api/v1/log` | log size, cosigned size and each witness's state (`TransparencyLogStatus`, JSON) |
/// | `GET /log/tile/<L>/<N>[.p/<W>]`, `/log/tile/entries/<N>[.p/<W>]` | its tiles and entry bundles (c2sp.org/tlog-tiles) |
///
/// The lists are paged (`Paging`): `limit` 1…10000 (default 1000), the next
/// page's `cursor` in the `X-Next-Cursor` and `Link` headers.
public struct AggregatorHTTPServer: Sendable {
    public let host: String
    public let port: Int
    public let readModel: any AggregatorReadModel
    public let operations: (any AggregatorOperations)?
    public let operatorToken: String?
    public let metrics: AggregatorMetrics
    public let logger: Logger
    public let transparencyLog: (any TransparencyLogSource)?

    public init(host: String, port: Int, readModel: any AggregatorReadModel, operations: (any AggregatorOperations)?,
                operatorToken: String?, metrics: AggregatorMetrics, logger: Logger, transparencyLog: (any TransparencyLogSource)? = nil) {
        self.transparencyLog = transparencyLog
        self.host = host
        self.port = port
        self.readModel = readModel
        self.operations = operations
        self.operatorToken = operatorToken
        self.metrics = metrics
        self.logger = logger
    }

    /// Builds the application; `onRunning` receives the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "fieldproof-aggregator"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let readModel = self.readModel
        let metrics = self.metrics
        let transparencyLog = self.transparencyLog

        router.get("/healthz") { _, _ in Self.text("ok\n") }
        // Messages the store could not commit after its tries (`DeadLetter`: serial, sequence, error, time, size, base64 raw).
        router.get("/api/v1/dead-letters") { request, _ in
            let serial = request.uri.queryParameters["device"].map(String.init)
            guard let letters = readModel as? any DeadLetterReadModel else { return try Self.json([DeadLetter]()) }
            let page = try await letters.deadLetters(serial: serial, page: try Paging.request(request.uri.queryParameters, key: DeadLetterKey.self))
            return Paging.withNext(try Self.json(page.items), next: page.more ? page.items.last.map { Paging.encode(DeadLetterKey($0)) } : nil,
                                   request: request)
        }
        router.get("/metrics") { _, _ in
            Self.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/") { _, _ in
            let now = Int64(WallClock.milliseconds())
            let page = DashboardPage(
                devices: try await readModel.devices(),
                activity: try await readModel.activity(buckets: 24, bucketMilliseconds: 3_600_000, now: now),
                latest: try await readModel.latestReadings(limit: 24),
                epochs: Array(try await readModel.epochs().suffix(5)),
                log: try await transparencyLog?.status(),
                now: now)
            return Self.text(page.render(), contentType: "text/html; charset=utf-8")
        }
        router.get("/api/v1/devices") { request, _ in
            let page = try await readModel.devices(page: try Paging.request(request.uri.queryParameters, key: String.self))
            return Paging.withNext(try Self.json(page.items), next: page.more ? page.items.last.map { Paging.encode($0.serial) } : nil, request: request)
        }
        router.get("/api/v1/devices/:serial") { _, context in
            let serial = try context.parameters.require("serial")
            guard let device = try await readModel.device(serial: serial) else {
                throw HTTPError(.notFound, message: "no device \(serial)")
            }
            return try Self.json(device)
        }
        router.get("/api/v1/devices/:serial/quality") { request, context in
            let serial = try context.parameters.require("serial")
            var start: Int64?
            if let text = request.uri.queryParameters["epoch_start"] {
                guard let value = Int64(String(text)) else {
                    throw HTTPError(.badRequest, message: "epoch_start must be Unix ms, e.g. ?epoch_start=1795557600000")
                }
                start = value
            }
            guard let quality = try await readModel.quality(serial: serial, epochStart: start, now: Int64(WallClock.milliseconds())) else {
                throw HTTPError(.notFound, message: "no readings of \(serial) in a closed epoch")
            }
            return try Self.json(quality)
        }
        router.get("/api/v1/tallies") { request, _ in
            let query = try Self.tallyQuery(request.uri.queryParameters)
            let page = try await readModel.tallies(query, page: try Paging.request(request.uri.queryParameters, key: TallyKey.self))
            let rows = page.items
            let wantsCSV = request.uri.queryParameters["format"] == "csv"
                || (request.headers[.accept]?.contains("text/csv") ?? false)
            let units = try Self.unitSystem(request.uri.queryParameters["units"].map(String.init))
            let response = wantsCSV ? Self.text(TallyCSV.render(rows, units: units), contentType: "text/csv; charset=utf-8") : try Self.json(rows)
            return Paging.withNext(response, next: page.more ? rows.last.map { Paging.encode(TallyKey($0)) } : nil, request: request)
        }
        router.get("/api/v1/epochs") { request, _ in
            let page = try await readModel.epochs(page: try Paging.request(request.uri.queryParameters, key: Int64.self))
            return Paging.withNext(try Self.json(page.items), next: page.more ? page.items.last.map { Paging.encode($0.start) } : nil, request: request)
        }
        router.get("/api/v1/epochs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let epoch = try await readModel.epoch(id: id) else { throw HTTPError(.notFound, message: "no epoch \(id)") }
            return try Self.json(epoch)
        }
        router.get("/api/v1/epochs/:id/proofs/:serial/:sequence") { _, context in
            let id = try context.parameters.require("id")
            let serial = try context.parameters.require("serial")
            guard let sequence = UInt64(try context.parameters.require("sequence")) else {
                throw HTTPError(.badRequest, message: "sequence must be a whole number")
            }
            guard let proof = try await readModel.proof(epoch: id, serial: serial, sequence: sequence) else {
                throw HTTPError(.notFound, message: "message \(serial)/\(sequence) is not in epoch \(id)")
            }
            return Response(status: .ok, headers: [.contentType: "application/cbor"], body: .init(byteBuffer: ByteBuffer(bytes: proof)))
        }
        addOperatorRoutes(to: router)
        if let transparencyLog { addLogRoutes(to: router, log: transparencyLog) }
        return router
    }

    private func addOperatorRoutes(to router: Router<BasicRequestContext>) {
        let operations = self.operations
        let token = self.operatorToken
        @Sendable func authorise(_ request: Request) throws -> any AggregatorOperations {
            guard let operations, let token, !token.isEmpty else {
                throw HTTPError(.forbidden, message: "operator endpoints are disabled: set http.operator_token in the config")
            }
            guard let header = request.headers[.authorization], ConstantTime.equals(header, "Bearer \(token)") else {
                throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a valid bearer token is required")
            }
            return operations
        }
        router.post("/api/v1/enrollments") { request, _ in
            let operations = try authorise(request)
            guard let serial = request.uri.queryParameters["serial"].map(String.init), !serial.isEmpty else {
                throw HTTPError(.badRequest, message: "serial is required: POST /api/v1/enrollments?serial=fp-0001&expires=24h")
            }
            let expires = try request.uri.queryParameters["expires"].map { text -> Duration in
                do {
                    return try DurationText.parsePositive(String(text))
                } catch {
                    throw HTTPError(.badRequest, message: "expires: \(error); for example ?expires=24h")
                }
            } ?? .seconds(24 * 3600)
            let ticket: (pin: String, expiresAt: Int64)
            do {
                ticket = try await operations.enroll(serial: serial, expiresIn: expires)
            } catch let error as any OperatorInputError {
                throw HTTPError(.badRequest, message: error.description)
            }
            var ticketJSON = ["serial": serial, "pin": ticket.pin, "expiresAt": String(ticket.expiresAt)]
            // The technician needs it with the PIN: `fieldproof pair` sends the PIN only to keys with this fingerprint.
            ticketJSON["aggregatorFingerprint"] = operations.aggregatorFingerprint
            return try Self.json(ticketJSON, status: .created)
        }
        router.post("/api/v1/devices/:serial/revoke") { request, context in
            let operations = try authorise(request)
            let serial = try context.parameters.require("serial")
            guard try await operations.revoke(serial: serial) else { throw HTTPError(.notFound, message: "no device \(serial)") }
            return try Self.json(["serial": serial, "revoked": "true"])
        }
    }

    static func tallyQuery(_ parameters: Parameters) throws -> TallyQuery {
        func time(_ name: Substring) throws -> Int64? {
            guard let text = parameters[name] else { return nil }
            guard let value = Int64(text) else {
                throw HTTPError(.badRequest, message: "\(name) must be Unix time in milliseconds")
            }
            return value
        }
        return TallyQuery(serial: parameters["device"].map(String.init), from: try time("from"), to: try time("to"))
    }

    /// `units=display` or `units=si` (the default: CSV is for programs first).
    static func unitSystem(_ text: String?) throws -> UnitSystem {
        guard let text else { return .si }
        guard let units = UnitSystem(rawValue: text) else {
            throw HTTPError(.badRequest, message: "units must be display (°C, hPa, …) or si")
        }
        return units
    }

    static func text(_ body: String, contentType: String = "text/plain; charset=utf-8", status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
