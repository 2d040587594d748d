import Hardware
import Sensors
import SimulatedHardware
import Testing

/// BMP280 and BME280 against the bytes of Bosch's datasheets, not against
/// our simulator. Registers written out again here, from the datasheets'
/// memory maps (BME280 §5.3–5.4, BMP280 §4.2–4.3).
@Suite struct BME280PlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Register {
        static let chipID: UInt8 = 0xD0
        static let calibration: UInt8 = 0x88          // calib00…calib25, 0x88…0xA1
        static let humidityCalibration: UInt8 = 0xE1  // calib26…calib32, 0xE1…0xE7
        static let controlHumidity: UInt8 = 0xF2
        static let status: UInt8 = 0xF3
        static let controlMeasurement: UInt8 = 0xF4
        static let data: UInt8 = 0xF7                 // press_msb … hum_lsb
    }

    /// The BMP280 datasheet's worked example (§3.12 "Calculating pressure
    /// and temperature", example table): dig_T1 = 27504, dig_T2 = 26435,
    /// dig_T3 = −1000, dig_P1 = 36477, dig_P2 = −10685, dig_P3 = 3024,
    /// dig_P4 = 2855, dig_P5 = 140, dig_P6 = −7, dig_P7 = 15500,
    /// dig_P8 = −14600, dig_P9 = 6000, each little-endian as Table 17 stores
    /// them (0x88/0x89 = dig_T1 LSB/MSB …); 0xA0 reserved, 0xA1 = dig_H1 on
    /// a BME280 (0 here).
    static let exampleCalibration: [UInt8] = [
        0x70, 0x6B, 0x43, 0x67, 0x18, 0xFC,                   // dig_T1 27504, dig_T2 26435, dig_T3 -1000
        0x7D, 0x8E, 0x43, 0xD6, 0xD0, 0x0B, 0x27, 0x0B,       // dig_P1 36477, dig_P2 -10685, dig_P3 3024, dig_P4 2855
        0x8C, 0x00, 0xF9, 0xFF, 0x8C, 0x3C, 0xF8, 0xC6,       // dig_P5 140, dig_P6 -7, dig_P7 15500, dig_P8 -14600
        0x70, 0x17, 0x00, 0x00,                               // dig_P9 6000, reserved, dig_H1
    ]
    /// The example's raw values, adc_P = 415148 (0x655AC) and
    /// adc_T = 519888 (0x7EED0), as 20-bit msb/lsb/xlsb[7:4] (§3.11.3 / §4.2.3).
    static let examplePressureAndTemperature: [UInt8] = [0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00]

    @Test func bmp280ReproducesTheDatasheetExample() throws {
        let address: UInt16 = 0x76
        let bus = PlaybackI2CBus([
            Step(address: address, write: [Register.chipID], read: [0x58], "Chip ID: 0x58 is a BMP280 (§4.3.1)"),
            Step(address: address, write: [Register.calibration], read: Self.exampleCalibration, "Calibration data"),
            // ctrl_meas: osrs_t = ×1 (001), osrs_p = ×1 (001), mode = forced (01) (§4.3.4).
            Step(address: address, write: [Register.controlMeasurement, 0b001_001_01], "Start a forced measurement"),
            Step(address: address, write: [Register.status], read: [0x00], "status: measuring[3] = 0, done"),
            Step(address: address, write: [Register.data], read: Self.examplePressureAndTemperature, "Burst read 0xF7…0xFC"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: address), expected: .bmp280, sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        // The datasheet: t_fine = 128422, T = 25.08 °C, p = 100653.27 Pa (double precision).
        #expect(readings.count == 2)
        #expect(readings[0].quantity == "temperature" && readings[0].unit == "K")
        #expect(abs(readings[0].value - 273.15 - 25.08) < 0.005)
        #expect(readings[1].quantity == "pressure" && readings[1].unit == "Pa")
        #expect(abs(readings[1].value - 100_653.27) < 0.01)
        // Maximum measurement time at ×1/×1 (datasheet §3.8.2 / BME280 §9.1): 1.25 + 2.3 + 2.3 + 0.575 ms.
        #expect(sleeper.all.count == 1 && abs(sleeper.total - 6.425) < 1e-9)
    }

    /// The BME280 uses the same temperature and pressure formulas (§4.2.3,
    /// §8.1), so the BMP280 example holds. Its datasheet gives no worked
    /// example for humidity: the trimming values below are typical of real
    /// parts (dig_H1 = 75, dig_H2 = 362, dig_H3 = 0, dig_H4 = 313,
    /// dig_H5 = 50, dig_H6 = 30) packed as Table 16 says (0xE4 = H4[11:4],
    /// 0xE5 = H5[3:0]·16 + H4[3:0], 0xE6 = H5[11:4]), and the expected value
    /// comes from the datasheet's own integer routine,
    /// BME280_compensate_H_int32 (§4.2.3), run by hand on adc_H = 27000:
    /// 39190 / 1024 = 38.27 %RH; the driver uses the double version (§8.1).
    @Test func bme280SetsHumidityOversamplingBeforeTheMeasurementAndReadsEightBytes() throws {
        let address: UInt16 = 0x77
        var calibration = Self.exampleCalibration
        calibration[25] = 75 // dig_H1 at 0xA1
        let bus = PlaybackI2CBus([
            Step(address: address, write: [Register.chipID], read: [0x60], "Chip ID: 0x60 is a BME280 (§5.4.1)"),
            Step(address: address, write: [Register.calibration], read: calibration, "Calibration data 0x88…0xA1"),
            Step(address: address, write: [Register.humidityCalibration], read: [0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1E],
                 "Humidity calibration 0xE1…0xE7: dig_H2 362, dig_H3 0, dig_H4 313, dig_H5 50, dig_H6 30"),
            // ctrl_hum takes effect only after the following ctrl_meas write (§5.4.3).
            Step(address: address, write: [Register.controlHumidity, 0b001], "ctrl_hum: osrs_h = ×1"),
            Step(address: address, write: [Register.controlMeasurement, 0b001_001_01], "ctrl_meas: ×1, ×1, forced"),
            Step(address: address, write: [Register.status], read: [0x08], "status: still measuring"),
            Step(address: address, write: [Register.status], read: [0x00], "status: done"),
            Step(address: address, write: [Register.data], read: Self.examplePressureAndTemperature + [0x69, 0x78],
                 "Burst read 0xF7…0xFE, adc_H = 27000"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: address), expected: .bme280, sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        #expect(abs(readings[0].value - 273.15 - 25.08) < 0.005)
        #expect(abs(readings[1].value - 100_653.27) < 0.01)
        #expect(readings[2].quantity == "relative_humidity" && readings[2].unit == "%")
        #expect(abs(readings[2].value - 38.27) < 0.01)
        // 1.25 + 2.3 + (2.3 + 0.575) + (2.3 + 0.575) ms, then 1 ms before the second status poll.
        #expect(sleeper.all.count == 2 && abs(sleeper.all[0] - 9.3) < 1e-9 && sleeper.all[1] == 1)
    }

    @Test func aBMP280WhereABME280IsConfiguredIsRefusedAfterTheChipIDAlone() throws {
        let bus = PlaybackI2CBus([Step(address: 0x76, write: [Register.chipID], read: [0x58], "Chip ID")])
        #expect(throws: SensorError.self) {
            _ = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        }
        try bus.done()
    }
}
