import Crypto
import Foundation
import Identity
import Testing
import TestSupport

/// `fieldproof doctor` against the simulated station and a real broker.
@Suite(.serialized) struct DoctorCommandTests {
    func config(_ directory: String, brokerPort: Int, extraSensor: String = "") throws -> String {
        let path = directory + "/agent.yaml"
        try """
            serial: dev-7
            state_directory: \(directory)/state
            runtime_directory: \(directory)/run
            simulate: true
            board: raspberry-pi-4b
            broker:
              port: \(brokerPort)
            sensors:
              - {name: air, driver: bme280, interval: 1s}
              - {name: rain, driver: rain-gauge, pin: 11, interval: 2s}
            \(extraSensor)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func checks(_ output: String) throws -> [String: [String: Any]] {
        let array = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: array.compactMap { item in (item["check"] as? String).map { ($0, item) } })
    }

    @Test func aHealthyPairedStationPassesAndExitsZero() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let directory = try TemporaryDirectory.make(prefix: "doctor").path
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try PairedIdentity(serial: "dev-7", identityKey: Curve25519.Signing.PrivateKey(),
                           aggregatorKey: Curve25519.Signing.PrivateKey().publicKey).save(in: directory + "/state")
        let result = try await fieldproof(["doctor", "--config", try config(directory, brokerPort: broker.port), "--json"])
        #expect(result.status == 0, "\(result.output)")
        let found = try checks(result.output)
        for name in ["config", "board", "i2c-1", "gpio", "sensor air", "sensor rain", "broker", "identity", "spool"] {
            #expect(found[name]?["status"] as? String == "pass", "\(name): \(String(describing: found[name]))")
        }
    }

    @Test func eachProblemIsOneFailLineWithItsFixAndExitsOne() async throws {
        let directory = try TemporaryDirectory.make(prefix: "doctor").path
        let port = try LoopbackNetwork.freePort() // nothing listens
        let path = try config(directory, brokerPort: port, extraSensor: "  - {name: ghost, driver: sht4x, address: 0x11, interval: 1s}") // 0x10 is the simulated VEML7700
        let result = try await fieldproof(["doctor", "--config", path, "--timeout", "2"])
        #expect(result.status == 1, "\(result.output)")
        let lines = result.output.split(separator: "\n").map(String.init)
        func line(_ prefix: String) async -> String { lines.first { $0.hasPrefix(prefix) } ?? "" }
        await #expect(line("FAIL  sensor ghost").contains("no acknowledge from 0x11"), "\(result.output)")
        await #expect(line("FAIL  broker").contains("127.0.0.1:\(port)"), "\(result.output)")
        await #expect(line("FAIL  identity").contains("fieldproof pair"), "\(result.output)")
        await #expect(line("PASS  sensor air").contains("temperature"), "\(result.output)")
        #expect(!result.output.contains("Error:") && !result.output.contains("Swift."), "no stack traces or type names")
        let bad = try await fieldproof(["doctor", "--config", directory + "/missing.yaml"])
        #expect(bad.status == 1 && bad.output.hasPrefix("FAIL  config"), "\(bad.output)")
    }
}
