@testable import Agent
import Foundation
import LinuxService
import Testing
import TestSupport

/// Runs the built `fieldproof` binary, as a technician would.
func fieldproof(_ arguments: [String]) async throws -> ProcessRunner.Result {
    let binary = try #require(ProjectPaths.product("fieldproof"), "fieldproof must be built next to the tests")
    return try await ProcessRunner.run(binary.path, arguments)
}

@Suite struct StatusCommandTests {
    func runtimeDirectory(with status: DeviceStatus?) throws -> String {
        let directory = try TemporaryDirectory.make(prefix: "status-cli").path
        try status?.write(toRuntimeDirectory: directory)
        return directory
    }

    func sample(now: UInt64) -> DeviceStatus {
        DeviceStatus(
            version: "0.1.0", serial: "fp-0001", pid: 4242, updatedAt: now - 1_000, paired: true, keyID: "3fa2c1d4", board: "raspberry-pi-4-b",
            clockSynchronised: false, lastSequence: 1055,
            broker: .init(address: "10.0.0.2:1883", connected: false, lastError: "Connection refused", since: now - 30_000),
            sensors: [
                .init(name: "air", driver: "bme280", lastReadAt: now - 2_000, readings: [.init(quantity: "temperature", value: 294.65, unit: "K")]),
                .init(name: "rain", driver: "rain-gauge", lastReadAt: now - 90_000, lastError: "no acknowledge", lastErrorAt: now - 2_000),
                .init(name: "light", driver: "bh1750", lastReadAt: now - 1_000, readings: [.init(quantity: "illuminance", value: 812.5, unit: "lx")],
                      pace: .init(intervalMilliseconds: 50, readsPerSecond: 5.26, behind: true, skippedSlots: 40, lastReadMilliseconds: 180)),
            ],
            spool: .init(SpoolStatistics(records: 12, bytes: 4200, oldestAppendedAt: now - 12_000, oldestSequence: 1044, acknowledgedUpTo: 1043,
                                         droppedRecords: 2, truncatedTails: 0, truncatedBytes: 0), now: now))
    }

    @Test func showsEachPartOnItsOwnLine() async throws {
        let now = WallClock.milliseconds()
        let result = try await fieldproof(["status", "--runtime-directory", try runtimeDirectory(with: sample(now: now))])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("device   fp-0001: paired (key 3fa2c1d4)"))
        #expect(lines.contains { $0.hasPrefix("broker   10.0.0.2:1883 NOT connected for 30 s: Connection refused") })
        #expect(lines.contains { $0.hasPrefix("clock    NOT synchronised") })
        #expect(lines.contains("spool    12 message(s) waiting (4.1 KiB), oldest 12 s; acknowledged up to 1043, last sequence 1055"))
        #expect(lines.contains { $0.hasPrefix("losses   2 dropped") })
        #expect(lines.contains("sensor   air (bme280): temperature 21.50 °C (2 s ago)"))
        #expect(lines.contains("sensor   rain (rain-gauge): ERROR no acknowledge"))
        #expect(lines.contains("sensor   light (bh1750): illuminance 812.5 lx (1 s ago); NOT keeping its 50 ms interval: it is read 5.26 times a second, "
            + "one read takes 180 ms (set `interval:` to at least that)"), "\(lines)")
    }

    @Test func siUnitsOnRequest() async throws {
        let now = WallClock.milliseconds()
        let result = try await fieldproof(["status", "--units", "si", "--runtime-directory", try runtimeDirectory(with: sample(now: now))])
        #expect(result.output.split(separator: "\n").contains("sensor   air (bme280): temperature 294.65 K (2 s ago)"), "\(result.output)")
    }

    @Test func jsonIsTheStatusFile() async throws {
        let now = WallClock.milliseconds()
        let status = sample(now: now)
        let result = try await fieldproof(["status", "--json", "--runtime-directory", try runtimeDirectory(with: status)])
        let decoded = try JSONDecoder().decode(DeviceStatus.self, from: Data(result.output.utf8))
        #expect(decoded == status)
    }

    @Test func aMissingStatusSaysWhyAndFails() async throws {
        let result = try await fieldproof(["status", "--runtime-directory", try runtimeDirectory(with: nil)])
        #expect(result.status == 1)
        #expect(result.output.contains("the daemon is not running"))
    }

    /// Without --runtime-directory the configuration's runtime_directory
    /// is read; the state directory holds no status.
    @Test func readsTheRuntimeDirectoryOfTheConfiguration() async throws {
        let directory = try TemporaryDirectory.make(prefix: "status-config").path
        let runtime = directory + "/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try "serial: fp-0001\nstate_directory: \(directory)/state\nruntime_directory: \(runtime)\n"
            .write(toFile: directory + "/agent.yaml", atomically: true, encoding: .utf8)
        try sample(now: WallClock.milliseconds()).write(toRuntimeDirectory: runtime)
        let result = try await fieldproof(["status", "--config", directory + "/agent.yaml"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("device   fp-0001: paired (key 3fa2c1d4)"))
    }

    @Test func aStaleReportIsFlagged() async throws {
        var status = sample(now: WallClock.milliseconds())
        status.updatedAt -= 600_000
        let result = try await fieldproof(["status", "--runtime-directory", try runtimeDirectory(with: status)])
        #expect(result.output.contains("the daemon does not seem to run"))
    }
}
