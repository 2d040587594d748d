@testable import ConfigFile
import Testing

/// The one duration grammar of config files, `--expires` and `?expires=`.
@Suite struct DurationTextTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)), ("24h", .seconds(86_400)),
        ("7d", .seconds(7 * 86_400)), ("1.5m", .seconds(90)), ("0.5d", .seconds(43_200)), ("10 s", .seconds(10)),
        ("0s", .zero), ("3650d", .seconds(3650 * 86_400)),
    ])
    func eachUnit(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test(arguments: ["106751991167300d", "9223372036854775807ms", "3651d", "87601h", "1e300s", "99999999999999999999999999999d"])
    func overflowIsRefusedNotATrap(text: String) {
        let error = #expect(throws: DurationText.Problem.self) { try DurationText.parse(text) }
        #expect(error == .tooLong(text) || (text == "1e300s" && error == .notADuration(text)))
        if case .tooLong = error { #expect(error?.description == "\(text) is longer than the maximum of 3650d (ten years)") }
    }

    @Test(arguments: ["", "10", "ten s", "s", "5x", "inf s", "nans", "1e3s", "+5s", "5.5.5s", "0x10s", "-", "d7", "5 d d"])
    func garbageIsRefused(text: String) {
        #expect(throws: DurationText.Problem.notADuration(text)) { try DurationText.parse(text) }
    }

    @Test func negativeAndZeroWhereNotAllowed() {
        #expect(throws: DurationText.Problem.negative("-5m")) { try DurationText.parse("-5m") }
        #expect(throws: DurationText.Problem.tooShort("0s", minimum: .milliseconds(1))) { try DurationText.parsePositive("0s") }
        #expect(throws: DurationText.Problem.tooShort("30s", minimum: .seconds(60))) { try DurationText.parse("30s", minimum: .seconds(60)) }
        #expect(DurationText.Problem.tooShort("30s", minimum: .seconds(60)).description == "30s is shorter than the minimum of 1m")
    }

    @Test func formatWritesTheLargestWholeUnit() {
        #expect(DurationText.format(.seconds(7 * 86_400)) == "7d")
        #expect(DurationText.format(.seconds(25 * 3600)) == "25h")
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.milliseconds(.seconds(Int64.max)) == nil)
    }

    @Test func configFilesTakeDaysAndNameFileLineAndFix() throws {
        let root = try ConfigSection.root(text: "pairing:\n  default_expiry: 7d\n  max_request_age: 106751991167300d\n", file: "aggregator.yaml")
        let pairing = try #require(try root.section("pairing"))
        #expect(try pairing.duration("default_expiry", default: nil, minimum: .seconds(60)) == .seconds(7 * 86_400))
        let error = #expect(throws: ConfigError.self) { try pairing.duration("max_request_age", default: nil, example: "max_request_age: 10m") }
        #expect(error?.description
                == "aggregator.yaml:3:20: pairing.max_request_age: 106751991167300d is longer than the maximum of 3650d (ten years); for example: max_request_age: 10m")
        let huge = try ConfigSection.root(text: "interval: 9223372036854775807ms\n", file: "agent.yaml")
        #expect(throws: ConfigError.self) { try huge.duration("interval", default: nil) }
    }
}
