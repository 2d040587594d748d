import Foundation
import Sensors
import Testing

/// DS18B20 probes through the kernel's w1_therm, on fixture trees laid out
/// as /sys/bus/w1/devices is (Documentation/w1/slaves/w1_therm.rst): the
/// document's own example line, and scratchpads of the datasheet's Table 1
/// (temperature/data relationship) with their CRC-8.
@Suite struct DS18B20Tests {
    /// A root with these probes (ROM id → w1_slave text) beside the bus master.
    func tree(_ probes: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldproof-w1-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("w1_bus_master1"), withIntermediateDirectories: true)
        for (rom, text) in probes {
            let directory = root.appendingPathComponent(rom)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try text.write(to: directory.appendingPathComponent("w1_slave"), atomically: true, encoding: .utf8)
        }
        return root.path
    }

    /// The kernel document's example: scratchpad 72 01 … 57, t=23125.
    static let documented = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"

    /// Table 1 rows as the kernel prints them (t = raw × 1000 / 16).
    static let table: [(raw: String, crc: String, millidegrees: Int)] = [
        ("d0 07", "f4", 125_000), ("91 01", "70", 25_062), ("5e ff", "6a", -10_125), ("90 fc", "4f", -55_000),
    ]

    static func line(_ raw: String, crc: String, _ millidegrees: Int, verdict: String = "YES") -> String {
        let scratchpad = "\(raw) 4b 46 7f ff 0c 10 \(crc)"
        return "\(scratchpad) : crc=\(crc) \(verdict)\n\(scratchpad) t=\(millidegrees)\n"
    }

    @Test func theKernelDocumentsExampleAndTheDatasheetTable() throws {
        let probe = try DS18B20(name: "soil", root: try tree(["28-0316a2796aff": Self.documented]))
        #expect(probe.rom == "28-0316a2796aff")
        let reading = try #require(try probe.read().first)
        #expect(reading.quantity == "temperature" && reading.unit == "K")
        #expect(abs(reading.value - (23.125 + 273.15)) < 1e-9)
        for row in Self.table {
            let root = try tree(["28-000000000001": Self.line(row.raw, crc: row.crc, row.millidegrees)])
            let value = try #require(try DS18B20(name: "t", root: root).read().first)
            #expect(abs(value.value - (Double(row.millidegrees) / 1000 + 273.15)) < 1e-9, "\(row)")
            #expect(!value.outOfRange, "−55 and +125 °C are the ends of its range, inside it")
        }
    }

    @Test func severalProbesOnOneBusAreNamedByROM() throws {
        let root = try tree(["28-0316a2796aff": Self.documented, "28-0416b3421bff": Self.line("5e ff", crc: "6a", -10_125)])
        #expect(DS18B20.probes(root: root) == ["28-0316a2796aff", "28-0416b3421bff"])
        #expect { _ = try DS18B20(name: "t", root: root) } throws: {
            ($0 as? SensorError)?.code == .config && "\($0)".contains("28-0316a2796aff, 28-0416b3421bff")
        }
        let second = try DS18B20(name: "t", rom: "28-0416b3421bff", root: root)
        #expect(abs(try second.read()[0].value - (-10.125 + 273.15)) < 1e-9)
        #expect { _ = try DS18B20(name: "t", rom: "28-ffffffffffff", root: root) } throws: {
            ($0 as? SensorError)?.code == .noData && "\($0)".contains("there are: 28-0316a2796aff")
        }
    }

    /// The kernel's NO, and bytes whose CRC does not match although the line
    /// says YES, are both a CRC failure; 85 °C is the power-on value.
    @Test func badScratchpadsAndTheUnconvertedValueAreErrors() throws {
        let refused = Self.documented.replacingOccurrences(of: "YES", with: "NO")
        #expect { _ = try DS18B20(name: "t", root: try tree(["28-000000000001": refused])).read() } throws: { ($0 as? SensorError)?.code == .crc }
        let altered = "73 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n73 01 4b 46 7f ff 0e 10 57 t=23187\n"
        #expect { _ = try DS18B20(name: "t", root: try tree(["28-000000000001": altered])).read() } throws: { ($0 as? SensorError)?.code == .crc }
        let powerOn = Self.line("50 05", crc: "1c", 85_000)
        #expect { _ = try DS18B20(name: "t", root: try tree(["28-000000000001": powerOn])).read() } throws: { ($0 as? SensorError)?.code == .notReady }
        #expect { _ = try DS18B20(name: "t", root: try tree(["28-000000000001": "garbage"])).read() } throws: { ($0 as? SensorError)?.code == .badValue }
    }

    @Test func noOneWireBusSaysHowToEnableItAndAVanishedProbeIsAWiringError() throws {
        #expect { _ = try DS18B20(name: "t", root: "/nonexistent-w1") } throws: {
            ($0 as? SensorError)?.code == .noData && "\($0)".contains("dtoverlay=w1-gpio")
        }
        let root = try tree(["28-0316a2796aff": Self.documented])
        let probe = try DS18B20(name: "t", root: root)
        try FileManager.default.removeItem(atPath: root + "/28-0316a2796aff")
        #expect { _ = try probe.read() } throws: { ($0 as? SensorError)?.code == .noAcknowledge }
    }
}
