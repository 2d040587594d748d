import Crypto
import Foundation
import Identity
import MQTT
import Testing
import TestSupport
import Wire
import Synchronization

/// The real `fieldproof pair` and `fieldproof-aggregator serve` through a
/// real mosquitto, with an attacker who has the broker's powers: it reads
/// every topic, records everything, plants retained messages, injects
/// answers and replays what it recorded. It must neither learn the PIN,
/// nor get its keys trusted by the device, nor get anything bound.
@Suite(.serialized) struct HostileBrokerPairingTests {
    let directory: String

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "hostile-broker").path
    }

    var aggregatorConfig: String { directory + "/aggregator.yaml" }
    var aggregatorLog: String { directory + "/aggregator.log" }

    func writeConfigs(brokerPort: Int, httpPort: Int) throws {
        try """
            state_directory: \(directory)/aggregator
            log_level: info
            broker:
              port: \(brokerPort)
            http:
              port: \(httpPort)
            pairing:
              max_attempts: 3
            """.write(toFile: aggregatorConfig, atomically: true, encoding: .utf8)
        for serial in ["dev-a", "dev-b"] {
            try """
                serial: \(serial)
                state_directory: \(directory)/\(serial)
                runtime_directory: \(directory)/\(serial).run
                simulate: true
                board: raspberry-pi-4b
                broker:
                  port: \(brokerPort)
                sensors:
                  - {name: air, driver: bme280, interval: 1s}
                """.write(toFile: directory + "/\(serial).yaml", atomically: true, encoding: .utf8)
        }
    }

    func aggregator(_ arguments: String...) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        return try await ProcessRunner.run(binary.path, arguments + ["--config", aggregatorConfig])
    }

    func enroll(_ serial: String) async throws -> (pin: String, fingerprint: String) {
        let result = try await aggregator("enroll", "--serial", serial, "--expires", "1h", "--json")
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String]
        return (try #require(object?["pin"], "\(result.output)"), try #require(object?["aggregatorFingerprint"], "\(result.output)"))
    }

    func pair(_ serial: String, pin: String, fingerprint: String) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof"))
        return try await ProcessRunner.run(binary.path, ["pair", "--config", directory + "/\(serial).yaml", "--aggregator-fingerprint", fingerprint,
                                                                 "--timeout", "10"], input: pin + "\n")
    }

    /// Everything the attacker saw, in order.
    final class Recording: Sendable {
        private let messages = Mutex<[MQTTMessage]>([])

        init(_ client: MQTTClient) {
            Task.detached { [weak self] in
                for await message in client.messages { self?.append(message) }
            }
        }

        private func append(_ message: MQTTMessage) { messages.withLock { $0.append(message) } }
        var all: [MQTTMessage] { messages.withLock { $0 } }
        func on(_ topic: String) -> [[UInt8]] { all.filter { $0.topic == topic }.map(\.payload) }

        func wait(seconds: Double = 10, until condition: ([MQTTMessage]) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(all) { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return condition(all)
        }
    }

    @Test func anAttackerWithTheBrokersPowersCannotTakeOverPairing() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()
        try writeConfigs(brokerPort: broker.port, httpPort: httpPort)
        let (pin, fingerprint) = try await enroll("dev-a")
        let (_, _) = try await enroll("dev-b")
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let service = try ChildProcess(binary.path, ["serve", "--config", aggregatorConfig], outputFile: aggregatorLog)
        defer { service.terminate(signal: SIGKILL) }

        let attacker = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "attacker"))
        defer { attacker.close() }
        try await attacker.connect()
        let recording = Recording(attacker)
        try await attacker.subscribe("fieldproof/v1/#", qos: .atLeastOnce)
        #expect(await recording.wait(seconds: 20) { $0.contains { $0.topic == Topics.aggregatorKeys } }, "the aggregator announces its keys")
        let genuine = try #require(recording.on(Topics.aggregatorKeys).first)
        let genuineKeys = try AggregatorKeys(decoding: try COSESign1(decoding: genuine).payload)

        // 1. It plants keys of its own (properly self-signed, retained): the device refuses them and sends nothing.
        let impostor = try AggregatorIdentity(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        try await attacker.publish(topic: Topics.aggregatorKeys, payload: try impostor.signedAnnouncement(), retain: true)
        let refused = try await pair("dev-a", pin: pin, fingerprint: fingerprint)
        #expect(refused.status == 9 && refused.output.contains("fingerprint"), "\(refused.output)")
        #expect(recording.on(Topics.pairRequest("dev-a")).isEmpty, "no request left the device")

        // 2. The genuine keys back (it replays them), but it answers every request first, "accepted", signed by its own key.
        try await attacker.publish(topic: Topics.aggregatorKeys, payload: genuine, retain: true)
        let forger = Task {
            while !Task.isCancelled {
                let answer = PairResponse(serial: "dev-a", result: .accepted, attemptsLeft: 0, boundKeyID: [UInt8](repeating: 1, count: 16),
                                          requestNonce: (0..<16).map { _ in UInt8.random(in: 0...255) }, time: 1, highestSequence: 0)
                if let signed = try? COSESign1.sign(payload: answer.encodeBody(), with: impostor.signingKey, keyID: KeyID.of(impostor.signingKey.publicKey)) {
                    try? await attacker.publish(topic: Topics.pairResponse("dev-a"), payload: signed)
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let paired = try await pair("dev-a", pin: pin, fingerprint: fingerprint)
        forger.cancel()
        #expect(paired.status == 0 && paired.output.contains("paired dev-a"), "\(paired.output)")
        let identity = try #require(try PairedIdentity.load(from: directory + "/dev-a"))
        #expect(Array(identity.aggregatorKey.rawRepresentation) == genuineKeys.signingKey, "the device pinned the real aggregator")
        let boundBefore = try await aggregator("devices", "show", "dev-a", "--json").output
        #expect(boundBefore.contains(KeyID.hex(identity.keyID)), "\(boundBefore)")

        // 3. What it recorded: the sealed request holds no PIN; replayed, it binds nothing new.
        let requests = recording.on(Topics.pairRequest("dev-a"))
        #expect(requests.count == 1)
        for message in recording.all { #expect(message.payload.firstRange(of: Array(pin.utf8)) == nil, "\(message.topic)") }
        let answersBefore = recording.on(Topics.pairResponse("dev-a")).count
        try await attacker.publish(topic: Topics.pairRequest("dev-a"), payload: try #require(requests.first))
        #expect(await recording.wait { $0.filter { $0.topic == Topics.pairResponse("dev-a") }.count > answersBefore })
        let genuineSigner = try Curve25519.Signing.PublicKey(rawRepresentation: genuineKeys.signingKey)
        let replayAnswers = recording.on(Topics.pairResponse("dev-a")).compactMap { bytes -> PairResponse? in
            guard let envelope = try? COSESign1(decoding: bytes), envelope.isValid(for: genuineSigner) else { return nil }
            return try? PairResponse(decodingBody: envelope.payload)
        }
        // The replay finds the enrollment used ("expired or used"): nothing is bound again.
        #expect(replayAnswers.map(\.result) == [.accepted, .expired], "\(replayAnswers)")
        #expect(try await aggregator("devices", "show", "dev-a", "--json").output.contains(KeyID.hex(identity.keyID)))

        // 4. Guessing online costs attempts like anyone's guess (dev-b allows 3).
        let guess = try DevicePairing.makeRequest(serial: "dev-b", pin: try PIN(validating: "000000"), secret: DeviceSecret(bytes: [UInt8](repeating: 5, count: 32)),
                                                  board: "x", sensors: [], time: UInt64(Date().timeIntervalSince1970 * 1000), aggregator: genuineKeys,
                                                  kdf: .init(logN: 10, r: 8, p: 1))
        try await attacker.publish(topic: Topics.pairRequest("dev-b"), payload: guess.message)
        #expect(await recording.wait { $0.contains { $0.topic == Topics.pairResponse("dev-b") } })
        let verdict = try DevicePairing.checkResponse(try #require(recording.on(Topics.pairResponse("dev-b")).first), to: guess)
        #expect(verdict.result == .wrongPIN && verdict.attemptsLeft == 2)
        #expect(service.isRunning)
        #expect(await service.stop(signal: SIGTERM, timeout: 20))
    }
}
