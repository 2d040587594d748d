import Foundation
import Testing
import TestSupport

/// The daemon's and the aggregator's unit files pass `systemd-analyze
/// verify` with a low exposure, and the daemon's keeps the least-privilege
/// settings the design asks for.
@Suite struct SystemdUnitTests {
    static let analyze = "/usr/bin/systemd-analyze"
    static let unit = ProjectPaths.root.appendingPathComponent("systemd/fieldproof.service")

    /// The unit with ExecStart pointing at the freshly built binary (verify
    /// checks that the program exists).
    func installedCopy(_ program: String = "fieldproof") throws -> URL {
        let binary = try #require(ProjectPaths.product(program), "\(program) must be built next to the tests")
        let unit = ProjectPaths.root.appendingPathComponent("systemd/\(program).service")
        let text = try String(contentsOf: unit, encoding: .utf8).replacingOccurrences(of: "/usr/local/bin/\(program) ", with: binary.path + " ")
        let directory = try TemporaryDirectory.make(prefix: "unit")
        let copy = directory.appendingPathComponent("\(program).service")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        return copy
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed"),
          arguments: ["fieldproof", "fieldproof-aggregator"])
    func verifyPasses(program: String) async throws {
        let result = try await ProcessRunner.run(Self.analyze, ["verify", try installedCopy(program).path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "verify printed warnings: \(result.output)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "systemd-analyze is not installed"),
          arguments: ["fieldproof", "fieldproof-aggregator"])
    func securityExposureIsLow(program: String) async throws {
        let result = try await ProcessRunner.run(Self.analyze, ["security", "--offline=true", "--threshold=30", try installedCopy(program).path])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        #expect(score <= 3.0, "\(line)")
    }

    @Test func leastPrivilegeSettingsArePresent() throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        for setting in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "User=fieldproof", "SupplementaryGroups=i2c gpio",
                        "StateDirectory=fieldproof", "RuntimeDirectory=fieldproof", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
                        "PrivateTmp=yes", "DevicePolicy=closed", "DeviceAllow=char-i2c rw", "DeviceAllow=char-gpiochip rw"] {
            #expect(text.contains(setting), "missing \(setting)")
        }
        let devices = text.split(separator: "\n").filter { $0.hasPrefix("DeviceAllow=") }
        #expect(devices.count == 2, "only I2C adapters and GPIO chips")
    }
}
