import Foundation
import Sensors
import Testing

/// Kernel-driven sensors under /sys/bus/iio/devices, on fixture trees with
/// the files real drivers make. Units after scale and offset are the ABI's
/// (Documentation/ABI/testing/sysfs-bus-iio: temp m°C, humidityrelative m%,
/// pressure kPa, voltage mV, illuminance lx; value = (raw + offset) × scale).
/// Layouts: bmp280-core.c for a BME280 (processed in_temp_input m°C as an
/// integer, in_pressure_input kPa as IIO_VAL_FRACTIONAL, so nine decimals,
/// in_humidityrelative_input m% as an integer); ti-ads1015.c's indexed
/// voltage channels with a per-channel scale, and differential pairs;
/// bh1750.c (in_illuminance_raw, in_illuminance_scale 57500000 / 69 as
/// IIO_VAL_INT_PLUS_MICRO, in_illuminance_integration_time 1740 µs × 69);
/// xilinx-xadc-core.c's temperature (scale 503975 / 2^12 as
/// IIO_VAL_FRACTIONAL_LOG2, offset −(273150 << 12) / 503975 = −2219).
@Suite struct IIOTests {
    func tree(_ devices: [String: [String: String]]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fieldproof-iio-\(UUID().uuidString.prefix(8))")
        for (directory, files) in devices {
            let path = root.appendingPathComponent(directory)
            try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(to: path.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        }
        return root.path
    }

    var board: [String: [String: String]] {
        [
            "iio:device0": ["name": "bme280\n", "in_temp_input": "23450\n", "in_pressure_input": "100.653289062\n",
                            "in_humidityrelative_input": "45123\n", "in_temp_oversampling_ratio": "2\n",
                            "in_pressure_oversampling_ratio": "16\n", "in_humidityrelative_oversampling_ratio": "16\n",
                            "in_temp_oversampling_ratio_available": "1 2 4 8 16\n"],
            "iio:device1": ["name": "ads1115\n", "in_voltage0_raw": "20000\n", "in_voltage0_scale": "0.062500000\n",
                            "in_voltage1_raw": "8000\n", "in_voltage1_scale": "0.062500000\n",
                            "in_voltage0-voltage1_raw": "12000\n", "in_voltage0-voltage1_scale": "0.062500000\n",
                            "in_voltage0_sampling_frequency": "128\n", "scale_available": "3 2 1 0.5 0.25 0.125\n"],
            "iio:device2": ["name": "bh1750\n", "in_illuminance_raw": "1000\n", "in_illuminance_scale": "0.833333\n",
                            "in_illuminance_integration_time": "0.120060\n", "integration_time_available": "0.053940 0.055680\n"],
            "iio:device3": ["name": "xadc\n", "in_temp0_raw": "2600\n", "in_temp0_offset": "-2219\n", "in_temp0_scale": "123.040771484\n",
                            "in_accel_x_raw": "12\n", "in_temp0_peak_raw": "2700\n"],
            "trigger0": ["name": "sysfstrig0\n"],
        ]
    }

    @Test func aBME280ThroughBmp280ReadsKelvinPascalAndPercent() throws {
        let sensor = try IIO(name: "air", device: "bme280", root: try tree(board))
        #expect(sensor.device.directory == "iio:device0")
        let readings = try sensor.read()
        #expect(readings.map(\.quantity) == ["temperature", "relative_humidity", "pressure"], "oversampling files are not readings")
        #expect(abs(readings[0].value - (23.45 + 273.15)) < 1e-9 && readings[0].unit == "K")
        #expect(abs(readings[1].value - 45.123) < 1e-9 && readings[1].unit == "%")
        #expect(abs(readings[2].value - 100_653.289062) < 1e-6 && readings[2].unit == "Pa", "kPa × 1000")
    }

    @Test func anADS1115ScalesEachChannelAndSkipsDifferentialPairs() throws {
        let readings = try IIO(name: "soil", device: "iio:device1", root: try tree(board)).read()
        #expect(readings.map(\.quantity) == ["voltage_in0", "voltage_in1"])
        #expect(abs(readings[0].value - 1.25) < 1e-12 && abs(readings[1].value - 0.5) < 1e-12, "20000 × 0.0625 mV; 8000 × 0.0625 mV")
        #expect(readings.map(\.unit) == ["V", "V"])
        let one = try IIO(name: "soil", device: "ads1115", channels: ["voltage1"], root: try tree(board)).read()
        #expect(one.map(\.quantity) == ["voltage_in1"])
        #expect { _ = try IIO(name: "x", device: "ads1115", channels: ["voltage7"], root: try tree(board)) } throws: {
            ($0 as? SensorError)?.code == .config && "\($0)".contains("voltage0, voltage1")
        }
    }

    @Test func aBH1750GivesLuxFromRawTimesScale() throws {
        let readings = try IIO(name: "light", device: "bh1750", root: try tree(board)).read()
        #expect(readings.count == 1 && readings[0].quantity == "illuminance" && readings[0].unit == "lx")
        #expect(abs(readings[0].value - 833.333) < 1e-9)
    }

    @Test func theOffsetIsAddedBeforeScalingAndOtherTypesAndPeaksAreSkipped() throws {
        let readings = try IIO(name: "fpga", device: "xadc", root: try tree(board)).read()
        #expect(readings.map(\.quantity) == ["temperature_in0"], "in_accel and the peak record are not read")
        // (2600 − 2219) × 123.040771484 m°C = 46.878533935 °C
        #expect(abs(readings[0].value - (46.878533935404 + 273.15)) < 1e-6)
    }

    @Test func aChannelsOwnScaleWinsOverTheTypesAndTheTypesOverNone() throws {
        let root = try tree(["iio:device0": ["name": "adc\n", "in_voltage_scale": "2\n", "in_voltage0_raw": "100\n", "in_voltage1_raw": "100\n",
                                             "in_voltage1_scale": "0.5\n", "in_voltage_offset": "10\n", "in_current0_raw": "250\n"]])
        let readings = try IIO(name: "x", device: "adc", root: root).read()
        #expect(readings.map(\.quantity) == ["voltage_in0", "voltage_in1", "current_in0"])
        #expect(abs(readings[0].value - 0.220) < 1e-12, "(100 + 10) × 2 mV: the shared scale and offset")
        #expect(abs(readings[1].value - 0.055) < 1e-12, "(100 + 10) × 0.5 mV: its own scale")
        #expect(abs(readings[2].value - 0.250) < 1e-12, "no scale: the raw value is in mA")
    }

    @Test func aProcessedFileIsPreferredToRawAndScale() throws {
        // Newer bmp280 drivers show both; the processed value needs nothing applied.
        let root = try tree(["iio:device0": ["name": "bmp280\n", "in_temp_input": "21000\n", "in_temp_raw": "5\n", "in_temp_scale": "10\n"]])
        let readings = try IIO(name: "x", device: "bmp280", root: root).read()
        #expect(readings.count == 1 && abs(readings[0].value - 294.15) < 1e-9)
    }

    @Test func devicesAreListedAndNamedErrorsSayWhatToDo() throws {
        let root = try tree(board)
        #expect(IIO.devices(root: root).map(\.name) == ["bme280", "ads1115", "bh1750", "xadc"], "triggers are not devices")
        #expect { _ = try IIO(name: "x", device: "scd30", root: root) } throws: {
            ($0 as? SensorError)?.code == .noData && "\($0)".contains("iio:device2 (bh1750)")
        }
        #expect { _ = try IIO(name: "x", device: "bme280", root: "/nonexistent-iio") } throws: {
            ($0 as? SensorError)?.code == .noData && "\($0)".contains("dtoverlay=i2c-sensor,bme280")
        }
        let twice = try tree(["iio:device0": ["name": "bh1750\n", "in_illuminance_raw": "1\n"], "iio:device1": ["name": "bh1750\n", "in_illuminance_raw": "2\n"]])
        #expect { _ = try IIO(name: "x", device: "bh1750", root: twice) } throws: {
            ($0 as? SensorError)?.code == .config && "\($0)".contains("iio:device0, iio:device1")
        }
        #expect(try IIO(name: "x", device: "iio:device1", root: twice).read().first?.value == 2)
        #expect(try IIO(name: "x", device: "\(twice)/iio:device0", root: "/nonexistent-iio").read().first?.value == 1, "a path needs no root")
        let accelerometer = try tree(["iio:device0": ["name": "adxl345\n", "in_accel_x_raw": "1\n", "in_accel_scale": "0.038\n"]])
        #expect { _ = try IIO(name: "x", device: "adxl345", root: accelerometer) } throws: { ($0 as? SensorError)?.code == .noData }
    }

    @Test func aValueThatIsNotANumberOrAVanishedFileIsAnError() throws {
        for text in ["n/a\n", "nan\n", "inf\n", "0x10\n", "1e3\n", "\n"] {
            let root = try tree(["iio:device0": ["name": "bh1750\n", "in_illuminance_raw": text]])
            #expect { _ = try IIO(name: "x", device: "bh1750", root: root).read() } throws: { ($0 as? SensorError)?.code == .badValue }
        }
        let badScale = try tree(["iio:device0": ["name": "bh1750\n", "in_illuminance_raw": "1\n", "in_illuminance_scale": "fast\n"]])
        #expect { _ = try IIO(name: "x", device: "bh1750", root: badScale).read() } throws: { ($0 as? SensorError)?.code == .badValue }
        let sensor = try IIO(name: "x", device: "bme280", root: try tree(board))
        try FileManager.default.removeItem(atPath: sensor.device.path + "/in_pressure_input")
        #expect { _ = try sensor.read() } throws: { ($0 as? SensorError)?.code == .noAcknowledge }
    }
}
