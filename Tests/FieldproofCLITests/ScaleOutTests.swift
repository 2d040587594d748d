import Aggregator
import AggregatorStore
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Identity
import MQTT
import Testing
import TestSupport
import TransparencyLog
import Wire
import Synchronization

/// Beyond one machine: a real PostgreSQL, three `fieldproof-aggregator`
/// processes sharing the stream through one `$share` group, 50 devices
/// sending 20,000 signed messages, one aggregator killed with -9 halfway.
/// The publisher behaves as the daemon does: what no signed Ack covers is
/// sent again after a timeout. Every message ends up tallied exactly once.
@Suite(.serialized) struct ScaleOutTests {
    static let devices = 50
    static let perDevice = 400
    let directory: String
    let t0 = Int64(Date().timeIntervalSince1970 * 1000)

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "scale-out").path
    }

    /// The config file and the HTTP port, which opens only after the MQTT subscriptions are made.
    func aggregatorConfig(_ index: Int, brokerPort: Int, database: String) throws -> (path: String, httpPort: Int) {
        let path = directory + "/aggregator-\(index).yaml"
        let httpPort = try LoopbackNetwork.freePort()
        try """
            state_directory: \(directory)/aggregator-\(index)
            signing_key_file: \(directory)/aggregator.key
            log_level: warning
            broker:
              port: \(brokerPort)
              client_id: aggregator-\(index)
              shared_group: aggregators
            store:
              kind: postgres
              url: \(database)
            http:
              port: \(httpPort)
            verification:
              workers: 4
              queue: 200
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, httpPort)
    }

    /// The latest Ack per device, each checked against the aggregators' key.
    final class Acks: Sendable {
        private let highest = Mutex<[String: UInt64]>([:])
        func record(_ serial: String, _ sequence: UInt64) { highest.withLock { $0[serial] = max($0[serial] ?? 0, sequence) } }
        func of(_ serial: String) -> UInt64 { highest.withLock { $0[serial] ?? 0 } }
    }

    final class Counter: Sendable {
        private let count = Mutex(0)
        func increment() -> Int { count.withLock { $0 += 1; return $0 } }
        var value: Int { count.withLock { $0 } }
    }

    func get(_ port: Int, _ path: String) async throws -> [UInt8] {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/log/\(path)")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(path)")
        return Array(data)
    }

    /// The aggregators write one transparency log: each serves the same
    /// checkpoint, signed with the log key; its entry bundles hold every
    /// message exactly once; and its tiles are those of the tree the
    /// entries make.
    func checkTheOneLog(httpPorts: [Int], aggregatorKey: Curve25519.Signing.PrivateKey, messages: Set<[UInt8]>) async throws {
        let identity = try AggregatorIdentity(seed: Array(aggregatorKey.rawRepresentation))
        let verifier = try NoteVerifier(name: "fieldproof-aggregator/\(identity.fingerprint)", publicKey: aggregatorKey.publicKey)
        var checkpoints: [Checkpoint] = []
        for port in httpPorts {
            let opened = try SignedNote.open(try await get(port, "checkpoint"), verifiers: [verifier])
            checkpoints.append(try Checkpoint(text: opened.text))
        }
        let checkpoint = try #require(checkpoints.first)
        #expect(checkpoints.allSatisfy { $0 == checkpoint }, "one log: \(checkpoints)")
        // Each device's pairing is logged before its messages: one key event each.
        let keyEventCount = Self.devices
        #expect(checkpoint.size == UInt64(messages.count + keyEventCount))
        let tiles = Tile.tiles(forTreeSize: checkpoint.size)
        var tree = MerkleTree()
        var entries: [[UInt8]] = []
        for tile in tiles where tile.level == 0 {
            let bundle = try await get(httpPorts[0], Tile(kind: .entries, index: tile.index, width: tile.width)!.path)
            let inBundle = try #require(Tile.entries(inBundle: bundle), "\(tile.path): a well-formed entry bundle")
            #expect(inBundle.count == Int(tile.width), "\(tile.path)")
            for entry in inBundle {
                entries.append(entry)
                tree.append(entry)
            }
        }
        let logged = entries.filter(messages.contains)
        #expect(logged.count == messages.count && Set(logged) == messages, "every message in the log once")
        let events = try entries.filter { !messages.contains($0) }.map { entry in
            let signed = try COSESign1(decoding: entry)
            #expect(signed.isValid(for: aggregatorKey.publicKey), "a key event is signed by the aggregator")
            return try KeyEvent(decoding: signed.payload)
        }
        #expect(events.count == keyEventCount && events.allSatisfy { $0.kind == .paired }, "\(events)")
        #expect(tree.root(size: tree.count) == checkpoint.root)
        for tile in tiles {
            #expect(try await get(httpPorts[1], tile.path) == tree.data(of: tile) { entries[$0] }, "\(tile.path)")
        }
        // And as Go's sumdb/tlog reads it, over HTTP (skipped only outside CI without Go).
        if GoTlogCheck.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil {
            let go = try await GoTlogCheck.run(["url": "http://127.0.0.1:\(httpPorts[0])/log", "verifierKey": verifier.verifierKey])
            #expect(go.status == 0 && go.output.hasPrefix("ok: served checkpoint of \(messages.count + keyEventCount) entries"), "\(go.output)")
        }
    }

    /// `audit` replays the served log with only the log's key and finds
    /// the served tallies are the ones the log makes; once a tally is
    /// changed in the database behind the aggregators, it names that tally.
    func checkTheAudit(binary: String, httpPort: Int, aggregatorKey: Curve25519.Signing.PrivateKey, postgres: PostgresServer,
                       tallies: Int) async throws {
        let identity = try AggregatorIdentity(seed: Array(aggregatorKey.rawRepresentation))
        let verifierKey = try NoteVerifier(name: "fieldproof-aggregator/\(identity.fingerprint)", publicKey: aggregatorKey.publicKey).verifierKey
        let arguments = ["audit", "--log", "http://127.0.0.1:\(httpPort)/log", "--api", "http://127.0.0.1:\(httpPort)",
                         "--log-key", verifierKey]
        // Seven tallies a page: the cursor is followed to the end.
        let honest = try await ProcessRunner.run(binary, arguments + ["--page-size", "7"])
        let total = Self.devices * Self.perDevice
        #expect(honest.status == 0, "\(honest.output)")
        #expect(honest.output.contains("log: \(total + Self.devices) entries (\(total) messages, \(Self.devices) key events, 0 epoch summaries)"), "\(honest.output)")
        #expect(honest.output.contains("tallies: all \(tallies) served tallies follow from the log"), "\(honest.output)")
        #expect(honest.output.contains("quality: all") && honest.output.contains("device-epoch quality scores follow from the log"), "\(honest.output)")

        let stranger = try NoteVerifier(name: "fieldproof-aggregator/\(identity.fingerprint)", publicKey: Curve25519.Signing.PrivateKey().publicKey)
        var withAnotherKey = arguments
        withAnotherKey[withAnotherKey.count - 1] = stranger.verifierKey
        let unsigned = try await ProcessRunner.run(binary, withAnotherKey)
        #expect(unsigned.status == 1 && unsigned.output.contains("checkpoint"), "a checkpoint the given key did not sign: \(unsigned.output)")

        let tampered = try await ProcessRunner.run("/usr/bin/psql", [postgres.url, "-v", "ON_ERROR_STOP=1", "-c",
                                                                    "UPDATE tally SET count = count + 1 WHERE serial = 'dev-07'"])
        #expect(tampered.status == 0, "\(tampered.output)")
        let caught = try await ProcessRunner.run(binary, arguments)
        #expect(caught.status == 1, "\(caught.output)")
        // (One epoch unless the run straddles an hour: then dev-07's first of two.)
        #expect(caught.output.contains("tallies differ: dev-07 air/temperature epoch") && caught.output.contains("the aggregator counts"),
                "\(caught.output)")
    }

    @Test func threeAggregatorsOnePostgresAKill9AndEveryMessageTalliedOnce() async throws {
        let postgres = try await PostgresServer.started()
        defer { postgres.stop() }
        let broker = try MosquittoBroker(configuration: """
            listener {PORT} 127.0.0.1
            allow_anonymous true
            max_queued_messages 1000000
            """)
        defer { broker.stop() }

        // 50 paired devices (keys bound directly: pairing is tested elsewhere).
        let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
        let store = try await PostgresStore(url: postgres.url, calendar: calendar)
        defer { store.close() }
        let serials = (1...Self.devices).map { String(format: "dev-%02d", $0) }
        let aggregatorKey = try Curve25519.Signing.PrivateKey(
            rawRepresentation: try DeviceSecret.loadOrCreate(at: directory + "/aggregator.key").bytes)
        var keys: [String: Curve25519.Signing.PrivateKey] = [:]
        for serial in serials {
            keys[serial] = Curve25519.Signing.PrivateKey()
            try await store.bindKey(serial: serial, publicKey: keys[serial]!.publicKey, at: t0, logKey: aggregatorKey)
        }

        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        var aggregators: [ChildProcess] = []
        var httpPorts: [Int] = []
        for index in 1...3 {
            let config = try aggregatorConfig(index, brokerPort: broker.port, database: postgres.url)
            aggregators.append(try ChildProcess(binary.path, ["serve", "--config", config.path], outputFile: directory + "/aggregator-\(index).log"))
            httpPorts.append(config.httpPort)
        }
        defer { for aggregator in aggregators { _ = aggregator.terminate(signal: SIGKILL, timeout: 5) } }
        func logs() -> String {
            (1...3).map { (try? String(contentsOfFile: directory + "/aggregator-\($0).log", encoding: .utf8)) ?? "" }.joined(separator: "\n")
        }
        // All three subscribed before the stream starts (else the first takes it all):
        // each opens its HTTP port only after subscribing.
        let subscribedBy = ContinuousClock.now + .seconds(60)
        while !httpPorts.allSatisfy(LoopbackNetwork.accepts(port:)), ContinuousClock.now < subscribedBy,
              aggregators.allSatisfy(\.isRunning) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(httpPorts.allSatisfy(LoopbackNetwork.accepts(port:)), "\(logs())")
        for aggregator in aggregators { #expect(!aggregator.waitForExit(timeout: 0), "\(logs())") }

        // Pre-signed messages, as 50 devices would send them. Floor 0: like a
        // daemon whose spool still holds everything, so only the aggregator's
        // own contiguity decides what an Ack covers.
        var messages: [String: [[UInt8]]] = [:]
        for serial in serials {
            messages[serial] = try (1...Self.perDevice).map { sequence in
                let telemetry = Telemetry(serial: serial, sequence: UInt64(sequence), floor: 0, timestamp: UInt64(t0) + UInt64(sequence),
                                          clockSynchronised: true, bootID: [UInt8](repeating: 3, count: 16), millisecondsSinceBoot: UInt64(sequence),
                                          readings: [.init(sensor: "air", quantity: "temperature", value: 280 + Double(sequence % 30), unit: "K")],
                                          statuses: [.init(sensor: "air", errorCode: nil)])
                return try COSESign1.sign(payload: telemetry.encode(), with: keys[serial]!, keyID: KeyID.of(keys[serial]!.publicKey))
            }
        }

        let acks = Acks()
        let ackReader = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "ack-reader"))
        try await ackReader.connect()
        try await ackReader.subscribe("fieldproof/v1/+/ack", qos: .atLeastOnce)
        let ackTask = Task {
            for await message in ackReader.messages {
                guard let serial = Topics.serial(in: message.topic, kind: "ack"),
                      let sequence = DevicePairing.checkAck(message.payload, serial: serial, aggregatorKey: aggregatorKey.publicKey) else { continue }
                acks.record(serial, sequence)
            }
        }
        defer { ackReader.close(); ackTask.cancel() }

        let publisher = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "devices"))
        try await publisher.connect()
        defer { publisher.close() }
        // Each device sends as the daemon does: at most 32 unacknowledged
        // messages in flight, and when its Ack stops moving for 3 s it sends
        // again from just after the Ack. The aggregator in the middle is
        // killed once half the stream has been sent.
        let published = Counter()
        let victim = aggregators[1]
        let total = Self.devices * Self.perDevice
        let deadline = Date().addingTimeInterval(300)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for serial in serials {
                let batch = messages[serial]!
                group.addTask {
                    var next = 1, lastAck: UInt64 = 0, progress = Date()
                    while acks.of(serial) < UInt64(batch.count), Date() < deadline {
                        let ack = acks.of(serial)
                        if ack > lastAck { lastAck = ack; progress = Date() }
                        if Date().timeIntervalSince(progress) > 3 { next = Int(ack) + 1; progress = Date() }
                        if next <= batch.count && next <= Int(ack) + 32 {
                            try await publisher.publish(topic: Topics.telemetry(serial), payload: batch[next - 1], qos: .atLeastOnce)
                            next += 1
                            if published.increment() == total / 2 { victim.signal(SIGKILL) }
                        } else {
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(victim.waitForExit(timeout: 5), "aggregator 2 was killed halfway")

        var accepted: UInt64 = 0
        for serial in serials {
            let summary = try #require(try await store.device(serial: serial))
            #expect(summary.accepted == UInt64(Self.perDevice) && summary.highestContiguous == UInt64(Self.perDevice),
                    "\(serial): \(summary.accepted) accepted, contiguous to \(summary.highestContiguous)")
            accepted += summary.accepted
        }
        #expect(accepted == UInt64(total), "each of \(total) messages once (\(published.value - total) sends were re-sends)")
        let tallied = try await store.tallies(TallyQuery()).filter { $0.metric == "air/temperature" }.map(\.count).reduce(0, +)
        #expect(tallied == UInt64(total))
        try await checkTheOneLog(httpPorts: [httpPorts[0], httpPorts[2]], aggregatorKey: aggregatorKey,
                                 messages: Set(messages.values.flatMap { $0 }))
        try await checkTheAudit(binary: binary.path, httpPort: httpPorts[2], aggregatorKey: aggregatorKey, postgres: postgres,
                                tallies: try await store.tallies(TallyQuery()).count)
        for (index, aggregator) in aggregators.enumerated() where index != 1 {
            #expect(await aggregator.stop(signal: SIGTERM, timeout: 20))
            #expect(aggregator.exitCode == 0, "\(logs())")
        }
    }
}
