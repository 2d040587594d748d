@testable import ConfigFile
import Testing

@Suite struct ConfigSectionTests {
    let sample = """
        # comment
        broker:
          host: mqtt.example.net
          port: 8883
        sensors:
          - name: air
            driver: bme280
            address: 0x76
            interval: 10s
            options:
              oversampling: 4
          - name: rain
            driver: rain-gauge
            interval: 1.5m
        spool:
          max_bytes: 64MiB
          fsync: group
        """

    /// Nine levels of ten aliases: 10^9 nodes if expanded. Refused at once,
    /// pointing at the first anchored value that is used again.
    @Test func anchorsAndAliasesAreRefusedSoBillionLaughsCannotExpand() throws {
        var text = "a0: &a0 [lol]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(throws: ConfigError.self) { _ = try ConfigSection.root(text: text, file: "laughs.yaml") }
        do {
            _ = try ConfigSection.root(text: text, file: "laughs.yaml")
        } catch {
            #expect(error.description.contains("laughs.yaml:1:5:"), "\(error)")
            #expect(error.description.contains("anchors and aliases"), "\(error)")
        }
        let simple = "broker: &b {host: x}\nagain: *b\n"
        #expect(throws: ConfigError.self) { _ = try ConfigSection.root(text: simple, file: "alias.yaml") }
    }

    @Test func readsTypedValues() throws {
        let root = try ConfigSection.root(text: sample, file: "agent.yaml")
        let broker = try #require(try root.section("broker"))
        #expect(try broker.string("host") == "mqtt.example.net")
        #expect(try broker.int("port", default: 1883, in: 1...65535) == 8883)
        try broker.finish()
        let sensors = try root.sections("sensors")
        #expect(sensors.count == 2)
        #expect(try sensors[0].int("address", default: nil) == 0x76)
        #expect(try sensors[0].duration("interval", default: nil) == .seconds(10))
        #expect(try sensors[0].scalars("options") == ["oversampling": "4"])
        #expect(try sensors[1].duration("interval", default: nil) == .seconds(90))
        let spool = try #require(try root.section("spool"))
        #expect(try spool.byteSize("max_bytes", default: nil) == 64 << 20)
        #expect(try spool.choice("fsync", from: ["record", "group"], default: "group") == "group")
    }

    @Test func errorsNameFileLineColumnAndAnExample() throws {
        let root = try ConfigSection.root(text: sample, file: "agent.yaml")
        let sensors = try root.sections("sensors")
        let error = #expect(throws: ConfigError.self) { try sensors[0].duration("options", default: nil) }
        #expect(error?.line == 11 && error?.column == 7)
        let badPort = try ConfigSection.root(text: "broker:\n  port: ninety\n", file: "/etc/fieldproof/agent.yaml")
        let portError = #expect(throws: ConfigError.self) { try badPort.section("broker")?.int("port", default: 1883, example: "port: 1883") }
        #expect(portError?.description == "/etc/fieldproof/agent.yaml:2:9: broker.port: \"ninety\" is not a whole number; for example: port: 1883")
    }

    @Test func unknownKeysAreRejectedWithASuggestion() throws {
        let root = try ConfigSection.root(text: "broker:\n  hots: x\n  port: 1\n", file: "a.yaml")
        let broker = try #require(try root.section("broker"))
        _ = try broker.string("host", default: "localhost")
        _ = try broker.int("port", default: 1883)
        let error = #expect(throws: ConfigError.self) { try broker.finish() }
        #expect(error?.description == "a.yaml:2:3: broker.hots: unknown setting; did you mean `host`?")
    }

    @Test func invalidYAMLIsLocated() {
        let error = #expect(throws: ConfigError.self) { try ConfigSection.root(text: "a: 1\n b: [2\n", file: "x.yaml") }
        #expect(error?.file == "x.yaml")
        #expect(error?.line == 2)
        #expect(error?.message.hasPrefix("not valid YAML") == true)
    }

    @Test func duplicateKeysAndMissingValuesAreErrors() throws {
        let duplicate = #expect(throws: ConfigError.self) { try ConfigSection.root(text: "a: 1\na: 2\n", file: "d.yaml") }
        #expect(duplicate?.line == 2)
        #expect(duplicate?.message.contains("set twice") == true)
        let root = try ConfigSection.root(text: "broker: {}\n", file: "m.yaml")
        let missing = #expect(throws: ConfigError.self) { try root.section("broker")?.string("host", default: nil, example: "host: 127.0.0.1") }
        #expect(missing?.description == "m.yaml:1:9: broker.host: is required but missing in broker; for example: host: 127.0.0.1")
    }

    @Test func quotedNumbersAreNotNumbers() throws {
        let root = try ConfigSection.root(text: "port: \"1883\"\n", file: "q.yaml")
        #expect(throws: ConfigError.self) { try root.int("port", default: nil) }
    }

    @Test(arguments: [("500ms", 500), ("10s", 10_000), ("1.5m", 90_000), ("2h", 7_200_000)])
    func durations(text: String, milliseconds: Int64) {
        #expect(ConfigSection.parseDuration(text) == .milliseconds(milliseconds))
    }

    @Test func badDurationsAndSizes() {
        #expect(ConfigSection.parseDuration("10") == nil)
        #expect(ConfigSection.parseDuration("ten s") == nil)
        #expect(ConfigSection.parseByteSize("1MiB") == 1 << 20)
        #expect(ConfigSection.parseByteSize("4096") == 4096)
        #expect(ConfigSection.parseByteSize("lots") == nil)
        #expect(ConfigSection.parseByteSize("-1") == nil)
    }

    @Test func anEmptyFileIsAnEmptyMapping() throws {
        let root = try ConfigSection.root(text: "", file: "e.yaml")
        #expect(try root.section("broker") == nil)
        try root.finish()
    }
}
