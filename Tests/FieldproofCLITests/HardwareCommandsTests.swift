import Foundation
import Testing
import TestSupport

@Suite struct HardwareCommandsTests {
    func config(_ text: String) throws -> String {
        let url = try TemporaryDirectory.make(prefix: "hw-cli").appendingPathComponent("agent.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func scanOfTheSimulatedStationNamesEveryChip() async throws {
        let result = try await fieldproof(["scan", "--simulate", "--json", "--config", "/nonexistent.yaml"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let devices = object?["devices"] as? [[String: Any]] ?? []
        #expect(devices.compactMap { $0["address"] as? String } == ["0x10", "0x23", "0x40", "0x41", "0x44", "0x45", "0x48", "0x62", "0x69", "0x76", "0x77"])
        #expect(devices.first { $0["address"] as? String == "0x41" }?["chip"] as? String == "INA260 (manufacturer 0x5449, die 0x2270)")
        #expect((devices.first { $0["address"] as? String == "0x69" }?["chip"] as? String)?.hasPrefix("SPS30 (product type 00080000") == true)
        let probes = object?["oneWire"] as? [[String: Any]] ?? []
        #expect(probes.compactMap { $0["rom"] as? String } == ["28-0316a2796aff", "28-0416b3421bff"], "the simulated 1-Wire bus")
        let iio = object?["iio"] as? [[String: Any]] ?? []
        #expect(iio.compactMap { $0["name"] as? String } == ["bme280", "ads1115"], "the simulated kernel IIO devices")
        #expect(devices.first { $0["address"] as? String == "0x76" }?["chip"] as? String == "BME280 (chip-id 0x60)")
    }

    @Test func readOfTheSimulatedStationPrintsValuesUnitsAndStatus() async throws {
        let result = try await fieldproof(["read", "--simulate", "--config", "/nonexistent.yaml"])
        #expect(result.status == 0, "\(result.output)")
        // The simulated world moves, so the values differ each time; the
        // units and precision do not (two decimals in °C and hPa, one in lx).
        func shows(_ pattern: String) -> Bool { (try? Regex(pattern)).map { result.output.contains($0) } ?? false }
        #expect(shows("air +bme280 +temperature +-?[0-9]+\\.[0-9]{2} °C\n"), "\(result.output)")
        #expect(shows("pressure +[0-9]{3,4}\\.[0-9]{2} hPa\n"))
        #expect(shows("illuminance +[0-9]+\\.[0-9] lx\n"))
        #expect(result.output.contains("battery") && result.output.contains("supply"), "the INA219 and INA260: \(result.output)")
        #expect(shows("supply +ina260 +voltage +5\\.[01][0-9]{2} V\n"), "\(result.output)")
        #expect(shows("probe +ds18b20 +temperature +-?[0-9]+\\.[0-9]{2} °C\n"), "the DS18B20: \(result.output)")
        #expect(shows("kernel +hwmon +temperature +-?[0-9]+\\.[0-9]{2} °C\n"), "a kernel-driven SHT3x: \(result.output)")
        #expect(shows("pm +sps30 +pm1_0 +[0-9]+\\.[0-9] µg/m³\n") && shows("pm10_count +[0-9]+\\.[0-9] /cm³\n")
                && shows("typical_particle_size +[0-9]\\.[0-9]{2} µm\n"), "the SPS30: \(result.output)")
        #expect(shows("gas_resistance +[0-9]+\\.[0-9] kΩ"), "the BME680: \(result.output)")
        #expect(shows("ambient +veml7700 +illuminance +[0-9]+\\.[0-9] lx\n"), "the VEML7700: \(result.output)")
        #expect(shows("iio +iio +temperature +-?[0-9]+\\.[0-9]{2} °C\n +relative_humidity +[0-9]+\\.[0-9] %\n +pressure +[0-9]{3,4}\\.[0-9]{2} hPa\n"),
                "a kernel-driven BME280 through IIO: \(result.output)")
        #expect(shows("voltage_in0 +[0-9]\\.[0-9]{3} V\n"), "an ADS1115 through IIO: \(result.output)")
    }

    /// `--units si`: the wire's values, unrounded; JSON is SI whatever the flag.
    @Test func readInSIUnits() async throws {
        let result = try await fieldproof(["read", "--simulate", "--units", "si", "--config", "/nonexistent.yaml"])
        #expect(result.status == 0, "\(result.output)")
        func shows(_ pattern: String) -> Bool { (try? Regex(pattern)).map { result.output.contains($0) } ?? false }
        #expect(shows("air +bme280 +temperature +2[0-9]{2}\\.[0-9]{5,} K\n"), "K, unrounded: \(result.output)")
        #expect(shows("pressure +[0-9]{5,6}\\.[0-9]{3,} Pa\n"), "\(result.output)")
        #expect(!result.output.contains("°C") && !result.output.contains("hPa"))
        let wrong = try await fieldproof(["read", "--simulate", "--units", "imperial", "--config", "/nonexistent.yaml"])
        #expect(wrong.status != 0 && wrong.output.contains("display") && wrong.output.contains("si"), "\(wrong.output)")
    }

    @Test func readFromAConfigReportsEachSensorAndExits1WhenOneFails() async throws {
        let path = try config("""
            serial: fp-0001
            simulate: true
            board: raspberry-pi-4b
            sensors:
              - name: air
                driver: bme280
                address: 0x76
              - name: ghost
                driver: sht4x
                address: 0x46
              - name: rain
                driver: rain-gauge
                pin: 11
            """)
        let result = try await fieldproof(["read", "--config", path, "--json"])
        #expect(result.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let sensors = object?["sensors"] as? [[String: Any]] ?? []
        #expect(sensors.map { $0["status"] as? String } == ["ok", "error", "ok"])
        #expect(sensors[1]["code"] as? String == "no-ack")
        #expect((sensors[1]["message"] as? String)?.contains("no acknowledge from 0x46") == true, "\(sensors[1])")
        let text = try await fieldproof(["read", "--config", path])
        #expect(text.output.contains("ERROR no-ack: "), "the code as on the wire, not its Swift name: \(text.output)")
        let one = try await fieldproof(["read", "--config", path, "--sensor", "air"])
        #expect(one.status == 0)
        #expect(!one.output.contains("rain"))
    }

    @Test func aSensorProblemNamesTheConfigLineAndABrokenConfigExits78() async throws {
        let path = try config("""
            serial: fp-0001
            simulate: true
            sensors:
              - name: rain
                driver: rain-gauge
                pin: 6
            """)
        let result = try await fieldproof(["read", "--config", path])
        #expect(result.status == 1)
        #expect(result.output.contains("\(path):4: sensor \"rain\" (rain-gauge): header pin 6 is ground, not a GPIO"), "\(result.output)")
        let broken = try config("serial: fp-0001\nsensors:\n  - name: air\n    driver: bme281\n")
        let failed = try await fieldproof(["read", "--config", broken])
        #expect(failed.status == 78)
        #expect(failed.output.contains("\(broken):4:"), "\(failed.output)")
        #expect(failed.output.contains("unknown driver \"bme281\""))
    }

    @Test(.enabled(if: access("/dev/i2c-1", F_OK) != 0, "this machine has /dev/i2c-1"))
    func aMissingBusSaysHowToEnableI2COnTheBoard() async throws {
        let result = try await fieldproof(["scan", "--board", "raspberry-pi-4b", "--config", "/nonexistent.yaml"])
        #expect(result.status == 1)
        #expect(result.output.contains("/dev/i2c-1 does not exist: I2C is not enabled. On Raspberry Pi 4 Model B:"), "\(result.output)")
        #expect(result.output.contains("dtparam=i2c_arm=on"))
    }
}
