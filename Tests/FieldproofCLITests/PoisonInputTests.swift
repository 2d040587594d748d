import Aggregator
import AggregatorStore
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Identity
import Testing
import TestSupport
import Wire

/// Nothing a client sends can stop, crash or wedge the aggregator.
///
/// For each store (SQLite, PostgreSQL): a real mosquitto, the real
/// `fieldproof-aggregator serve`, two devices with bound keys. The attacker
/// is properly paired (its signatures verify) and sends, through paho-mqtt
/// and pycose (scripts/interop/poison_publisher.py, code nobody here wrote),
/// signed and otherwise well-formed Telemetry with NaN, ±infinity, 1e308
/// twice in one tally, sequences 2^64−1 and 2^53, timestamps 2^64−1 and 0
/// (synchronised), ms since boot 2^63 and 2^64−1 and then the boots' anchors
/// (re-timing), one (serial, sequence) twice with different readings,
/// garbage and a truncated COSE message. Then an honest device sends five
/// messages, which must be tallied within seconds; the API must still answer
/// with valid JSON, the process must still run, each poison message must be
/// counted under its reason, and SIGTERM must still stop it cleanly.
@Suite(.serialized) struct PoisonInputTests {
    enum StoreKind: String, CaseIterable, Sendable { case sqlite, postgres }

    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil
    /// scripts/test sets FIELDPROOF_PYTHON; otherwise the project's .venv.
    static let python: String? = {
        if let path = ProcessInfo.processInfo.environment["FIELDPROOF_PYTHON"] { return path }
        let venv = ProjectPaths.root.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()
    /// Whether that Python has what the publisher imports.
    static func pythonReady() async -> Bool {
        guard let python else { return false }
        let probe = try? await ProcessRunner.run(python, ["-c", "import cbor2, pycose, paho.mqtt.client, cryptography"])
        return probe?.status == 0
    }
    static let script = ProjectPaths.root.appendingPathComponent("scripts/interop/poison_publisher.py").path

    static let attacker = "dev-poison"
    static let honest = "dev-honest"
    static let honestCount = 5

    /// What the poison phase and the anchors must leave on the attacker:
    /// every poison message refused under its own reason.
    static let expectedRejections: [String: UInt64] = [
        "non_finite_value": 3,            // NaN, +inf, -inf
        "value_out_of_range": 2,          // 1e308 twice in one epoch and metric
        "sequence_out_of_range": 2,       // 2^64−1 (floor 2^64−2), 2^53 (floor 2^53−1)
        "timestamp_out_of_range": 2,      // 2^64−1 synchronised, 0 synchronised
        "ms_since_boot_out_of_range": 2,  // 2^63, 2^64−1 (unsynchronised)
        "sequence_conflict": 1,           // sequence 12 again with another reading
        "malformed": 2,                   // garbage, truncated COSE
    ]
    /// Accepted from the attacker: ms since boot at the bound (10) and a
    /// reading at boot (11), both unsynchronised and re-timed by their boots'
    /// anchors (14, 15); the first of the conflicting pair (12).
    static let expectedAccepted: UInt64 = 5
    static let poisonMessages = 17
    static let anchorMessages = 2

    let directory: String

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "poison-input").path
    }

    var log: String { (try? String(contentsOfFile: directory + "/aggregator.log", encoding: .utf8)) ?? "" }
    func logTail(_ lines: Int = 40) -> String { log.split(separator: "\n").suffix(lines).joined(separator: "\n") }

    // MARK: HTTP, bounded

    struct HTTPAnswer {
        var status: Int
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// GET with a 5 s timeout; nil when nothing answered.
    func get(_ port: Int, _ path: String) async -> HTTPAnswer? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 5)
        request.httpMethod = "GET"
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              let http = response as? HTTPURLResponse else { return nil }
        return HTTPAnswer(status: http.statusCode, body: data)
    }

    func device(_ port: Int, _ serial: String) async -> [String: Any]? {
        guard let answer = await get(port, "/api/v1/devices/\(serial)"), answer.status == 200 else { return nil }
        return answer.json as? [String: Any]
    }

    /// accepted + every rejection of `serial`, as the API reports them.
    func settledCount(_ port: Int, _ serial: String) async -> UInt64 {
        guard let summary = await device(port, serial) else { return 0 }
        let accepted = Self.count(summary["accepted"]) ?? 0
        let rejected = (summary["rejected"] as? [String: Any] ?? [:]).values.compactMap(Self.count).reduce(0, +)
        return accepted + rejected
    }

    /// A JSON number as a count / a real, whatever type JSONSerialization chose.
    static func count(_ value: Any?) -> UInt64? {
        switch value {
        case let number as Int: number >= 0 ? UInt64(number) : nil
        case let number as UInt64: number
        case let number as Double: number >= 0 && number == number.rounded() ? UInt64(exactly: number) : nil
        case let number as NSNumber: number.uint64Value
        default: nil
        }
    }

    static func real(_ value: Any?) -> Double? {
        switch value {
        case let number as Double: number
        case let number as Int: Double(number)
        case let number as UInt64: Double(number)
        case let number as NSNumber: number.doubleValue
        default: nil
        }
    }

    static func rejections(_ summary: [String: Any]?) -> [String: UInt64] {
        (summary?["rejected"] as? [String: Any] ?? [:]).compactMapValues(Self.count)
    }

    /// The honest device's air/temperature tally: (count, sum).
    func honestTally(_ port: Int) async -> (count: UInt64, sum: Double)? {
        guard let answer = await get(port, "/api/v1/tallies?device=\(Self.honest)"), answer.status == 200,
              let rows = answer.json as? [[String: Any]] else { return nil }
        let mine = rows.filter { $0["serial"] as? String == Self.honest && $0["metric"] as? String == "air/temperature" }
        return (mine.compactMap { Self.count($0["count"]) }.reduce(0, +),
                mine.compactMap { Self.real($0["sum"]) }.reduce(0, +))
    }

    /// Polls `condition` every 200 ms until it holds, `seconds` pass or the
    /// aggregator is gone; returns whether it held.
    func waitUntil(seconds: Double, while service: ChildProcess, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            if !service.isRunning { return await condition() }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return await condition()
    }

    // MARK: processes, stopped by PID

    /// Runs the publisher for one phase; killed after 60 s (it also arms its own alarm).
    func publish(_ python: String, port: Int, serial: String, seed: [UInt8], _ phase: [String]) async throws -> (exited: Bool, code: Int32?, output: String) {
        let output = directory + "/publisher-\(serial)-\(phase[0]).log"
        let child = try ChildProcess(python, [Self.script, String(port), serial, KeyID.hex(seed)] + phase, outputFile: output)
        let exited = await child.exited(timeout: 60)
        if !exited { await child.stop(signal: SIGKILL, timeout: 5) }
        return (exited, child.exitCode, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    func writeConfig(kind: StoreKind, brokerPort: Int, httpPort: Int, postgresURL: String?) throws -> String {
        let store = switch kind {
        case .sqlite: "kind: sqlite\n  path: \(directory)/tallies.sqlite"
        case .postgres: "kind: postgres\n  url: \(postgresURL ?? "")"
        }
        let path = directory + "/aggregator.yaml"
        try """
            state_directory: \(directory)/aggregator
            log_level: warning
            broker:
              port: \(brokerPort)
              client_id: aggregator-poison
            store:
              \(store)
            http:
              port: \(httpPort)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Binds both devices' keys in the store the aggregator will use (pairing
    /// itself is tested elsewhere), before the aggregator starts.
    func bindKeys(kind: StoreKind, postgresURL: String?, keys: [String: Curve25519.Signing.PrivateKey]) async throws {
        let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        switch kind {
        case .sqlite:
            let store = try SQLiteStore(path: directory + "/tallies.sqlite", calendar: calendar)
            for (serial, key) in keys { try await store.bindKey(serial: serial, publicKey: key.publicKey, at: now, logKey: Curve25519.Signing.PrivateKey()) }
        case .postgres:
            guard let postgresURL else { throw TestSupportError.commandFailed("no PostgreSQL URL") }
            let store = try await PostgresStore(url: postgresURL, calendar: calendar)
            defer { store.close() }
            for (serial, key) in keys { try await store.bindKey(serial: serial, publicKey: key.publicKey, at: now, logKey: Curve25519.Signing.PrivateKey()) }
        }
    }

    // MARK: the test

    @Test(.enabled("no Python with pycose, cbor2 and paho-mqtt (FIELDPROOF_PYTHON or .venv): run scripts/test, which makes the venv") {
              await pythonReady() || inCI
          },
          .timeLimit(.minutes(5)),
          arguments: StoreKind.allCases)
    func poisonFromPahoNeitherStopsNorWedgesTheAggregator(store kind: StoreKind) async throws {
        guard await Self.pythonReady(), let python = Self.python else {
            Issue.record("CI must provide Python with pycose, cbor2 and paho-mqtt (scripts/test installs scripts/requirements-test.txt into .venv)")
            return
        }
        let postgres: PostgresServer? = if kind == .postgres { try await PostgresServer.started() } else { nil }
        defer { postgres?.stop() }
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()

        let seeds = [Self.attacker: [UInt8](repeating: 0xA7, count: 32), Self.honest: [UInt8](repeating: 0x4B, count: 32)]
        let keys = try seeds.mapValues { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) }
        try await bindKeys(kind: kind, postgresURL: postgres?.url, keys: keys)
        let config = try writeConfig(kind: kind, brokerPort: broker.port, httpPort: httpPort, postgresURL: postgres?.url)

        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let service = try ChildProcess(binary.path, ["serve", "--config", config], outputFile: directory + "/aggregator.log")
        defer { service.terminate(signal: SIGKILL, timeout: 5) }
        // The HTTP server starts after the telemetry subscription is made.
        let up = await waitUntil(seconds: 30, while: service) { LoopbackNetwork.accepts(port: httpPort) }
        try #require(up, "[\(kind)] the aggregator did not start: \(logTail())")

        // 1. The poison, from the attacker, whose key is bound.
        let poison = try await publish(python, port: broker.port, serial: Self.attacker, seed: seeds[Self.attacker]!, ["poison"])
        #expect(poison.exited && poison.code == 0, "[\(kind)] poison publisher: \(poison.output)")
        let poisonSettled = await waitUntil(seconds: 15, while: service) {
            await settledCount(httpPort, Self.attacker) >= UInt64(Self.poisonMessages)
        }
        let afterPoison = await device(httpPort, Self.attacker)
        #expect(poisonSettled, "[\(kind)] each of \(Self.poisonMessages) poison messages accepted or rejected: \(String(describing: afterPoison)) \(logTail())")
        #expect(service.isRunning, "[\(kind)] the aggregator died on the poison: exit \(String(describing: service.status)) \(logTail())")

        // 2. The anchors of the unsynchronised boots: re-timing is attempted now.
        let anchor = try await publish(python, port: broker.port, serial: Self.attacker, seed: seeds[Self.attacker]!, ["anchor"])
        #expect(anchor.exited && anchor.code == 0, "[\(kind)] anchor publisher: \(anchor.output)")
        let anchorsSettled = await waitUntil(seconds: 15, while: service) {
            await settledCount(httpPort, Self.attacker) >= UInt64(Self.poisonMessages + Self.anchorMessages)
        }
        let afterAnchors = await device(httpPort, Self.attacker)
        #expect(anchorsSettled, "[\(kind)] anchors settled: \(String(describing: afterAnchors)) \(logTail())")
        #expect(service.isRunning, "[\(kind)] the aggregator died re-timing: exit \(String(describing: service.status)) \(logTail())")

        // 3. The honest device is still served, within seconds.
        let honest = try await publish(python, port: broker.port, serial: Self.honest, seed: seeds[Self.honest]!, ["honest", String(Self.honestCount)])
        #expect(honest.exited && honest.code == 0, "[\(kind)] honest publisher: \(honest.output)")
        let tallied = await waitUntil(seconds: 10, while: service) {
            await honestTally(httpPort)?.count == UInt64(Self.honestCount)
        }
        let tally = await honestTally(httpPort)
        #expect(tallied, "[\(kind)] the honest device's \(Self.honestCount) readings tallied within 10 s: \(String(describing: tally)) \(logTail())")
        let expectedSum = (1...Self.honestCount).map { 290.5 + Double($0) }.reduce(0, +)
        #expect(abs((tally?.sum ?? 0) - expectedSum) < 1e-6, "[\(kind)] honest sum: \(String(describing: tally))")
        let honestSummary = await device(httpPort, Self.honest)
        #expect(Self.count(honestSummary?["accepted"]) == UInt64(Self.honestCount)
                && Self.rejections(honestSummary).isEmpty, "[\(kind)] \(String(describing: honestSummary))")

        // 4. Still running; the API answers with valid JSON.
        #expect(service.isRunning, "[\(kind)] the aggregator must still be running: exit \(String(describing: service.status)) \(logTail())")
        let health = await get(httpPort, "/healthz")
        #expect(health?.status == 200, "[\(kind)] /healthz: \(String(describing: health?.status))")
        for path in ["/api/v1/tallies", "/api/v1/devices", "/api/v1/tallies?device=\(Self.attacker)", "/api/v1/devices/\(Self.attacker)"] {
            let answer = await get(httpPort, path)
            #expect(answer?.status == 200 && answer?.json != nil,
                    "[\(kind)] \(path) must answer 200 with JSON: \(String(describing: answer?.status)) \(answer?.text.prefix(300) ?? "no answer")")
        }
        let devices = await get(httpPort, "/api/v1/devices")?.json as? [[String: Any]] ?? []
        #expect(Set(devices.compactMap { $0["serial"] as? String }).isSuperset(of: [Self.attacker, Self.honest]), "[\(kind)] \(devices)")

        // 5. Each poison message counted under its reason; the conflicting
        // second message changed no tally (its reading was 999 K).
        let attackerSummary = await device(httpPort, Self.attacker)
        #expect(Self.rejections(attackerSummary) == Self.expectedRejections,
                "[\(kind)] the attacker's rejections by reason: \(Self.rejections(attackerSummary))")
        #expect(Self.count(attackerSummary?["accepted"]) == Self.expectedAccepted,
                "[\(kind)] accepted from the attacker (2 re-timed, the first of the conflict, 2 anchors): \(String(describing: attackerSummary))")
        let attackerRows = await get(httpPort, "/api/v1/tallies?device=\(Self.attacker)")?.json as? [[String: Any]] ?? []
        let maxima = attackerRows.compactMap { Self.real($0["maximum"]) }
        #expect(maxima.allSatisfy { $0 < 999 }, "[\(kind)] a sequence_conflict must not be tallied: \(attackerRows)")
        let metrics = await get(httpPort, "/metrics")?.text ?? ""
        for (reason, count) in Self.expectedRejections {
            #expect(metrics.contains("fieldproof_messages_rejected_total{reason=\"\(reason)\"} \(count)"),
                    "[\(kind)] /metrics \(reason) \(count): \(metrics.split(separator: "\n").filter { $0.contains("rejected") })")
        }

        // 6. Not wedged: SIGTERM still stops it cleanly.
        #expect(await service.stop(signal: SIGTERM, timeout: 20), "[\(kind)] SIGTERM must stop the aggregator: \(logTail())")
        #expect(service.exitCode == 0, "[\(kind)] graceful stop: status \(String(describing: service.status)) \(logTail())")
    }
}
