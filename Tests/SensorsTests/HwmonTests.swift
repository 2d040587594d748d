import Foundation
import Sensors
import Testing

/// Kernel-driven sensors under /sys/class/hwmon, on fixture trees with the
/// files real drivers make: the ABI's units (Documentation/hwmon/
/// sysfs-interface.rst: temp m°C, humidity m%, in mV, curr mA, power µW),
/// sht3x (Documentation/hwmon/sht3x.rst: temp1_input, humidity1_input) and
/// ina2xx (Documentation/hwmon/ina2xx.rst: in0 the shunt voltage, in1 the
/// bus voltage, curr1, power1), beside the SoC's own zone as on a Pi.
@Suite struct HwmonTests {
    func tree(_ devices: [String: [String: String]]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldproof-hwmon-\(UUID().uuidString.prefix(8))")
        for (directory, files) in devices {
            let path = root.appendingPathComponent(directory)
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(to: path.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        }
        return root.path
    }

    var raspberryPi: [String: [String: String]] {
        [
            "hwmon0": ["name": "cpu_thermal\n", "temp1_input": "47236\n"],
            "hwmon1": ["name": "rpi_volt\n", "in0_lcrit_alarm": "0\n"],
            "hwmon2": ["name": "sht3x\n", "temp1_input": "23450\n", "humidity1_input": "45123\n", "temp1_max": "60000\n", "update_interval": "0\n"],
            "hwmon3": ["name": "ina219\n", "in0_input": "40\n", "in1_input": "11980\n", "curr1_input": "400\n", "power1_input": "4792000\n",
                       "shunt_resistor": "100000\n"],
        ]
    }

    @Test func anSHT3xReadsInSIUnitsAndOnlyItsInputs() throws {
        let sensor = try Hwmon(name: "air", device: "sht3x", root: try tree(raspberryPi))
        #expect(sensor.device.directory == "hwmon2")
        let readings = try sensor.read()
        #expect(readings.map(\.quantity) == ["temperature", "relative_humidity"], "limits such as temp1_max are not readings")
        #expect(abs(readings[0].value - (23.45 + 273.15)) < 1e-9 && readings[0].unit == "K")
        #expect(abs(readings[1].value - 45.123) < 1e-9 && readings[1].unit == "%")
    }

    @Test func anINA219UnderTheKernelGivesVoltsAmperesAndWatts() throws {
        let readings = try Hwmon(name: "battery", device: "hwmon3", root: try tree(raspberryPi)).read()
        #expect(readings.map(\.quantity) == ["voltage_in0", "voltage_in1", "current", "power"])
        #expect(abs(readings[0].value - 0.040) < 1e-12, "in0: the shunt voltage, 40 mV")
        #expect(abs(readings[1].value - 11.98) < 1e-12 && abs(readings[2].value - 0.4) < 1e-12 && abs(readings[3].value - 4.792) < 1e-12)
        #expect(readings.map(\.unit) == ["V", "V", "A", "W"])
    }

    @Test func aDeviceThatIsNotThereListsWhatIsAndOneWithoutInputsIsRefused() throws {
        let root = try tree(raspberryPi)
        #expect(Hwmon.devices(root: root).map(\.name) == ["cpu_thermal", "rpi_volt", "sht3x", "ina219"])
        #expect { _ = try Hwmon(name: "x", device: "bme680", root: root) } throws: {
            ($0 as? SensorError)?.code == .noData && "\($0)".contains("hwmon2 (sht3x)")
        }
        #expect { _ = try Hwmon(name: "x", device: "rpi_volt", root: root) } throws: { ($0 as? SensorError)?.code == .noData }
        #expect { _ = try Hwmon(name: "x", device: "sht3x", root: "/nonexistent-hwmon") } throws: { "\($0)".contains("kernel driver loaded") }
        let twice = try tree(["hwmon0": ["name": "sht3x\n", "temp1_input": "1\n"], "hwmon1": ["name": "sht3x\n", "temp1_input": "2\n"]])
        #expect { _ = try Hwmon(name: "x", device: "sht3x", root: twice) } throws: {
            ($0 as? SensorError)?.code == .config && "\($0)".contains("hwmon0, hwmon1")
        }
        #expect(try Hwmon(name: "x", device: "hwmon1", root: twice).read().first.map { abs($0.value - (0.002 + 273.15)) < 1e-9 } == true)
    }

    @Test func aValueThatIsNotAnIntegerOrAVanishedFileIsAnError() throws {
        let root = try tree(["hwmon0": ["name": "sht3x\n", "temp1_input": "n/a\n"]])
        #expect { _ = try Hwmon(name: "x", device: "sht3x", root: root).read() } throws: { ($0 as? SensorError)?.code == .badValue }
        let sensor = try Hwmon(name: "x", device: "sht3x", root: try tree(raspberryPi))
        try FileManager.default.removeItem(atPath: sensor.device.path + "/humidity1_input")
        #expect { _ = try sensor.read() } throws: { ($0 as? SensorError)?.code == .noAcknowledge }
    }
}
