import Sensors
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ThermalZoneTests {
    /// A fixture sysfs tree: `thermal_zone0` (cpu-thermal) and `thermal_zone1`.
    func fixture(_ zones: [(type: String, temp: String)]) throws -> String {
        var template = Array("/tmp/fieldproof-thermal-XXXXXX".utf8CString)
        guard let root = mkdtemp(&template) else { throw SensorError(code: .io, message: "mkdtemp failed") }
        let path = String(cString: root)
        for (index, zone) in zones.enumerated() {
            let directory = "\(path)/thermal_zone\(index)"
            mkdir(directory, 0o755)
            try write(zone.type + "\n", to: "\(directory)/type")
            try write(zone.temp + "\n", to: "\(directory)/temp")
        }
        return path
    }

    func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw SensorError(code: .io, message: "cannot write \(path)") }
        fputs(text, file)
        fclose(file)
    }

    @Test func readsMillidegreesAsKelvinFromTheSelectedZone() throws {
        let root = try fixture([("cpu-thermal", "48312"), ("gpu-thermal", "90500")])
        let cpu = try ThermalZone(name: "board", root: root)
        #expect(cpu.zone.type == "cpu-thermal")
        let reading = try cpu.read()[0]
        #expect(reading.quantity == "temperature" && reading.unit == "K")
        #expect(abs(reading.value - (48.312 + 273.15)) < 1e-9)
        #expect(!reading.outOfRange)
        let gpu = try ThermalZone(name: "gpu", zone: "gpu-thermal", root: root)
        #expect(try gpu.read()[0].outOfRange, "90.5 °C is above the 85 °C throttling point")
        #expect(try ThermalZone(name: "byIndex", zone: "1", root: root).zone.type == "gpu-thermal")
    }

    @Test func missingZonesAndGarbageAreClearErrors() throws {
        let root = try fixture([("cpu-thermal", "n/a")])
        do {
            _ = try ThermalZone(name: "board", zone: "soc", root: root)
            Issue.record("found a zone that is not there")
        } catch {
            #expect(error.code == .noZone)
            #expect(error.message.contains("there are: 0 (cpu-thermal)"), "\(error)")
        }
        #expect(throws: SensorError.self) { _ = try ThermalZone(name: "board", root: root + "/nothing") }
        let zone = try ThermalZone(name: "board", root: root)
        do {
            _ = try zone.read()
            Issue.record("read garbage as a temperature")
        } catch {
            #expect(error.code == .badValue)
        }
    }

    /// This machine's real zone, where it has one.
    @Test(.enabled(if: !ThermalZone.zones().isEmpty, "this machine exposes no /sys/class/thermal/thermal_zone* (a VM or container without a thermal driver)"))
    func readsThisMachinesRealZone() throws {
        let reading = try ThermalZone(name: "board").read()[0]
        #expect(reading.unit == "K")
        #expect((200.0...400.0).contains(reading.value), "a real board is between −73 °C and 127 °C")
    }
}
