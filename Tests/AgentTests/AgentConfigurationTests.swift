import Foundation
import Agent
import ConfigFile
import Testing
import TransparencyLog
import Crypto
import TestSupport

@Suite struct AgentConfigurationTests {
    static let drivers = ["bme280", "bmp280", "sht3x", "sht4x", "bh1750", "ads1115", "scd4x",
                          "rain-gauge", "anemometer", "digital-input", "board-temperature"]

    func parse(_ text: String) throws(ConfigError) -> AgentConfiguration {
        try AgentConfiguration.parse(text, file: "agent.yaml", knownDrivers: Self.drivers)
    }

    @Test func theCommentedExampleLoads() throws {
        let path = ProjectPaths.root.appendingPathComponent("config/agent.yaml").path
        let config = try AgentConfiguration.parse(try String(contentsOfFile: path, encoding: .utf8), file: path, knownDrivers: Self.drivers)
        #expect(config.serial == "fp-0001")
        #expect(config.broker.username == "fp-0001")
        #expect(config.sensors.map(\.name) == ["air", "light", "rain", "board"])
        #expect(config.sensors[0].address == 0x76)
        #expect(config.sensors[2].pin == 11)
        #expect(config.sensors[2].options == ["mm_per_tip": "0.2794"])
        #expect(config.spool.maximumBytes == 64 << 20)
        #expect(config.spool.durability == .groupCommit(milliseconds: 200))
        #expect(config.spool.directory == "/var/lib/fieldproof/spool")
        #expect(config.runtimeDirectory == "/run/fieldproof")
        #expect(config.clock == .kernel)
    }

    /// Runtime state (the status file) goes to the runtime directory, by
    /// default systemd's /run/fieldproof; it must be absolute and not the
    /// state directory.
    @Test func theRuntimeDirectoryIsAnAbsolutePathApartFromTheState() throws {
        #expect(try parse("serial: dev\n").runtimeDirectory == "/run/fieldproof")
        #expect(try parse("serial: dev\nruntime_directory: /tmp/fp/run\n").runtimeDirectory == "/tmp/fp/run")
        for (text, expected) in [
            ("serial: dev\nruntime_directory: run\n",
             "agent.yaml:2:20: runtime_directory: \"run\" must be an absolute path; for example: runtime_directory: /run/fieldproof"),
            ("serial: dev\nstate_directory: /var/lib/fp\nruntime_directory: /var/lib/fp\n",
             "agent.yaml:3:20: runtime_directory: must not be the state directory (/var/lib/fp): it is rewritten every second and belongs on tmpfs; for example: runtime_directory: /run/fieldproof"),
        ] {
            do {
                _ = try parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description == expected)
            }
        }
    }

    /// `clock: trusted` makes every message claim a synchronised clock;
    /// the default asks the kernel.
    @Test func theClockFlagComesFromTheKernelUnlessTrusted() throws {
        #expect(try parse("serial: dev\n").clock == .kernel)
        let trusted = try parse("serial: dev\nclock: trusted\n")
        #expect(trusted.clock == .trusted)
        #expect(trusted.clock.deviceClock().now().synchronised)
        #expect(throws: ConfigError.self) { try parse("serial: dev\nclock: ntp\n") }
    }

    @Test func theAggregatorFingerprintIsKeptAsGiven() throws {
        let config = try parse("serial: dev-7\naggregator_fingerprint: 3F9A0C1D5B7E92A4C0FFEE123456789A\n")
        #expect(config.aggregatorFingerprint == "3F9A0C1D5B7E92A4C0FFEE123456789A")
        #expect(try parse("serial: dev-7\n").aggregatorFingerprint == nil)
    }

    @Test func minimalConfigUsesDefaults() throws {
        let config = try parse("serial: dev-7\n")
        #expect(config.broker.host == "127.0.0.1" && config.broker.port == 1883)
        #expect(config.publishing.window == 32)
        #expect(config.sensors.isEmpty)
    }

    @Test func errorsPointAtTheLineAndShowAnExample() {
        let cases: [(String, String)] = [
            ("serial: dev\nbroker:\n  port: 99999\n", "agent.yaml:3:9: broker.port: 99999 is out of range 1…65535; for example: port: 8883"),
            ("serial: dev\nsensors:\n  - name: air\n    driver: bme281\n",
             "agent.yaml:4:13: sensors[0].driver: unknown driver \"bme281\"; known drivers: \(Self.drivers.joined(separator: ", "))"),
            ("serial: dev\nsensors:\n  - name: air\n    driver: bme280\n    interval: soon\n",
             "agent.yaml:5:15: sensors[0].interval: \"soon\" is not a duration (a number with ms, s, m, h or d); for example: interval: 10s"),
            ("serial: dev\nbrokr:\n  host: x\n", "agent.yaml:2:1: brokr: unknown setting; did you mean `broker`?"),
            ("broker:\n  host: x\n", "agent.yaml:1:1: serial: is required but missing; for example: serial: fp-0001"),
            ("serial: a/b\n", "agent.yaml:1:9: serial: \"a/b\" must be 1–64 letters, digits, '-' or '_' (it becomes part of MQTT topics); for example: serial: fp-0001"),
            ("serial: d\naggregator_fingerprint: 3f9a-0c1d\n",
             "agent.yaml:2:25: aggregator_fingerprint: must be the 32 hex digits `fieldproof-aggregator enroll` prints; for example: aggregator_fingerprint: 3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a"),
        ]
        for (text, expected) in cases {
            #expect(throws: ConfigError.self) { try parse(text) }
            do {
                _ = try parse(text)
            } catch {
                #expect(error.description == expected)
            }
        }
    }

    /// A `sensors:` entry is parsed into the one sensor configuration type
    /// the station makes drivers of, with where it stands in the file (so a
    /// driver option found wrong later still names agent.yaml:line).
    @Test func aSensorEntryBecomesTheSpecTheStationUses() throws {
        let text = """
            serial: d
            sensors:
              - name: air
                driver: bme280
                address: 0x77
              - name: rain
                driver: rain-gauge
                chip: gpiochip4
                pin: 11
                interval: 500ms
                options:
                  mm_per_tip: 0.2
            """
        let config = try parse(text)
        #expect(config.sensors == [
            SensorSpec(name: "air", driver: "bme280", address: 0x77, file: "agent.yaml", lineNumber: 3),
            SensorSpec(name: "rain", driver: "rain-gauge", chip: "gpiochip4", pin: 11, interval: .milliseconds(500),
                       options: ["mm_per_tip": "0.2"], file: "agent.yaml", lineNumber: 6),
        ])
    }

    @Test func duplicateSensorNamesAreRefused() {
        let text = "serial: d\nsensors:\n  - name: air\n    driver: bme280\n  - name: air\n    driver: sht4x\n"
        #expect { try parse(text) } throws: { error in
            String(describing: error).contains("sensor name \"air\" is already used on line 3")
        }
    }

    @Test func spoolLimitsMustFitTogether() {
        #expect { try parse("serial: d\nspool:\n  max_bytes: 1MiB\n  segment_bytes: 1MiB\n") } throws: { error in
            String(describing: error).contains("must be at least twice segment_bytes")
        }
    }

    /// `log:`: the audit is on by default; witness keys are checked when
    /// read, and a quorum must be reachable.
    @Test func theLogAuditSectionIsCheckedWhereItIsWritten() throws {
        #expect(try parse("serial: d\n").log == AgentConfiguration.LogAudit(audit: true, witnesses: [], witnessQuorum: 0))
        let key = try Cosigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey()).verifierKey
        let two = try Cosigner(name: "witness.example/w2", key: Curve25519.Signing.PrivateKey()).verifierKey
        let config = try parse("serial: d\nlog:\n  witnesses:\n    - \(key)\n    - \(two)\n  witness_quorum: 1\n")
        #expect(config.log.witnesses == [key, two] && config.log.witnessQuorum == 1 && config.log.audit)
        #expect(try parse("serial: d\nlog:\n  witnesses:\n    - \(key)\n").log.witnessQuorum == 1, "all of them by default")
        #expect(try !parse("serial: d\nlog:\n  audit: false\n").log.audit)
        let cases: [(String, String)] = [
            ("serial: d\nlog:\n  witnesses:\n    - not-a-key\n", "agent.yaml:4:5: log.witnesses: entry 1 is not a cosigner verifier key"),
            ("serial: d\nlog:\n  witnesses:\n    - \(key)\n    - \(key)\n", "is listed twice"),
            ("serial: d\nlog:\n  witnesses:\n    - \(key)\n  witness_quorum: 2\n", "log.witness_quorum: 2 cosignatures cannot be had from the 1"),
            ("serial: d\nlog:\n  witness_quorum: 1\n", "a quorum needs witnesses"),
            ("serial: d\nlog:\n  audits: true\n", "log.audits: unknown setting"),
        ]
        for (text, expected) in cases {
            #expect { try parse(text) } throws: { String(describing: $0).contains(expected) }
        }
    }
}
