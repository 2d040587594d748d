import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Testing
import TestSupport
import Wire

/// The real `fieldproof-aggregator` binary: `tally --csv` neutralises
/// formula cells, `enroll` takes the one duration grammar (also
/// `default_expiry: 7d` in the config), refuses overflow and reserved
/// serials with a clear message.
@Suite(.serialized) struct OperatorInputCLITests {
    let directory: String

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "operator-input").path
    }

    var config: String { directory + "/aggregator.yaml" }

    func writeConfig(_ extra: String = "") throws {
        try "state_directory: \(directory)/state\nlog_level: warning\n\(extra)".write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
    }

    func aggregator(_ arguments: String...) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        return try await ProcessRunner.run(binary.path, arguments + ["--config", config])
    }

    /// Writes the config and commits one signed message of fp-0001 with
    /// `readings` into the store the aggregator reads; returns its time.
    func storeOneMessage(_ readings: [Telemetry.Reading]) async throws -> Int64 {
        try writeConfig()
        let store = try SQLiteStore(path: directory + "/state/tallies.sqlite", calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let key = Curve25519.Signing.PrivateKey()
        let time: Int64 = 1_795_557_600_000
        let telemetry = Telemetry(serial: "fp-0001", sequence: 1, floor: 0, timestamp: UInt64(time), clockSynchronised: true,
                                  bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: 1000,
                                  readings: readings, statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
        _ = try await store.commit(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)),
                                                 receivedAt: time + 100))
        return time
    }

    @Test func tallyCSVNeutralisesFormulaCells() async throws {
        let time = try await storeOneMessage([.init(sensor: "air", quantity: "temperature", value: -3, unit: "=HYPERLINK(\"http://x\")"),
                                              .init(sensor: "air", quantity: "humidity", value: 0.5, unit: "@SUM(A1)")])
        let result = try await aggregator("tally", "--csv")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("fp-0001,air/humidity,\"'@SUM(A1)\",\(time),"), "\(result.output)")
        #expect(result.output.contains("fp-0001,air/temperature,\"'=HYPERLINK(\"\"http://x\"\")\",\(time),\(time + 3_600_000),1,-3,-3,-3,-3\r\n"),
                "\(result.output)")
    }

    /// The tally table is for people (°C, hPa); `--units si` and the CSV
    /// default keep the stored SI values; `--csv --units display` converts.
    @Test func tallyShowsTheUnitsPeopleRead() async throws {
        let time = try await storeOneMessage([.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                                              .init(sensor: "air", quantity: "pressure", value: 101_325, unit: "Pa")])
        let table = try await aggregator("tally")
        #expect(table.status == 0, "\(table.output)")
        let temperature = table.output.split(separator: "\n").first { $0.contains("air/temperature") }.map(String.init) ?? ""
        #expect(temperature.contains(" 21.50 ") && temperature.hasSuffix(" °C"), "\(table.output)")
        #expect(table.output.contains(" 1013.25 ") && table.output.contains("hPa"), "\(table.output)")
        let si = try await aggregator("tally", "--units", "si")
        #expect(si.output.contains(" 294.65 ") && si.output.contains(" 101325.0 ") && !si.output.contains("°C"), "\(si.output)")
        let csv = try await aggregator("tally", "--csv")
        #expect(csv.output.contains("fp-0001,air/temperature,K,\(time),\(time + 3_600_000),1,294.65,294.65,294.65,294.65\r\n"), "\(csv.output)")
        let shown = try await aggregator("tally", "--csv", "--units", "display")
        #expect(shown.output.contains("fp-0001,air/temperature,°C,\(time),\(time + 3_600_000),1,21.50,21.50,21.50,21.50\r\n"), "\(shown.output)")
        let json = try await aggregator("tally", "--json", "--units", "display")
        #expect(json.status != 0 && json.output.contains("JSON keeps SI"), "\(json.output)")
    }

    @Test func enrollTakesDaysFromTheConfigAndRefusesOverflowAndReservedSerials() async throws {
        try writeConfig("pairing:\n  default_expiry: 7d\n")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let enrolled = try await aggregator("enroll", "--serial", "fp-0001", "--json")
        #expect(enrolled.status == 0, "\(enrolled.output)")
        let json = try #require(enrolled.output.firstIndex(of: "{").flatMap { start in enrolled.output.lastIndex(of: "}").map { enrolled.output[start...$0] } })
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        let expiresAt = try #require(object?["expiresAt"].flatMap { Int64($0) })
        #expect(abs(expiresAt - before - 7 * 86_400_000) < 60_000)

        for expires in ["106751991167300d", "9223372036854775807ms"] {
            let refused = try await aggregator("enroll", "--serial", "fp-0002", "--expires", expires)
            #expect(refused.status != 0)
            #expect(refused.output.contains("--expires: \(expires) is longer than the maximum of 3650d (ten years)"), "\(refused.output)")
        }
        let reserved = try await aggregator("enroll", "--serial", "epochs", "--expires", "1h")
        #expect(reserved.status == 1)
        #expect(reserved.output.contains("serial \"epochs\" is reserved"), "\(reserved.output)")

        try writeConfig("pairing:\n  default_expiry: 106751991167300d\n")
        let badConfig = try await aggregator("enroll", "--serial", "fp-0003")
        #expect(badConfig.status == 78)
        #expect(badConfig.output.contains("\(config):4:19: pairing.default_expiry: 106751991167300d is longer than the maximum of 3650d"),
                "\(badConfig.output)")
    }
}
