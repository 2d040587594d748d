import Hardware
import Sensors
import SimulatedHardware
import Testing

/// BME280/BMP280, tested like the datasheet. Register addresses are written
/// out again here (not taken from the driver), so a typo in either fails.
@Suite struct BME280Tests {
    enum Register {
        static let chipID: UInt8 = 0xD0
        static let calibration: UInt8 = 0x88
        static let humidityCalibration: UInt8 = 0xE1
        static let controlHumidity: UInt8 = 0xF2
        static let status: UInt8 = 0xF3
        static let controlMeasurement: UInt8 = 0xF4
        static let data: UInt8 = 0xF7
    }

    /// BMP280 datasheet §3.12, "compensation computation example":
    /// adc_T = 519888, adc_P = 415148 → 25.08 °C, 100653.27 Pa.
    @Test func theDatasheetWorkedExample() {
        let calibration = BME280Calibration(t1: 27504, t2: 26435, t3: -1000, p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7,
                                            p7: 15500, p8: -14600, p9: 6000)
        let (celsius, tFine) = calibration.temperature(adc: 519_888)
        #expect(abs(celsius - 25.08) < 0.005)
        #expect(abs(tFine - 128_422) < 1)
        #expect(abs(calibration.pressure(adc: 415_148, tFine: tFine) - 100_653.27) < 0.01)
    }

    /// Independently computed: the integer version of the datasheet formula
    /// (BME280 §4.2.3, BME280_compensate_H_int32) gives the same humidity.
    @Test func humidityAgreesWithTheDatasheetIntegerFormula() {
        let calibration = BME280Calibration(t1: 27504, t2: 26435, t3: -1000, p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7,
                                            p7: 15500, p8: -14600, p9: 6000, h1: 75, h2: 362, h3: 0, h4: 324, h5: 50, h6: 30)
        let tFineInt: Int32 = 128_422
        let adcH: Int32 = 30_000
        var v: Int32 = tFineInt - 76800
        v = ((((adcH << 14) - (Int32(324) << 20) - (Int32(50) * v)) + 16384) >> 15)
            * (((((((v * Int32(30)) >> 10) * (((v * Int32(0)) >> 11) + 32768)) >> 10) + 2_097_152) * Int32(362) + 8192) >> 14)
        v = v - (((((v >> 15) * (v >> 15)) >> 7) * Int32(75)) >> 4)
        v = min(max(v, 0), 419_430_400)
        let integerPercent = Double(v >> 12) / 1024.0
        #expect(abs(calibration.humidity(adc: adcH, tFine: Double(tFineInt)) - integerPercent) < 0.01)
    }

    @Test func readsWhatTheSimulatedChipMeasuresWithTheDatasheetSequence() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(celsius: 21.5, humidity: 45, hectopascal: 1013.2), at: 0x76)
        let recording = RecordingI2CBus(bus)
        let sleeper = RecordingSleeper()
        let sensor = try BME280(name: "air", device: I2CDevice(bus: recording, address: 0x76), expected: .bme280, sleeper: sleeper)
        let detection: [[I2COperation]] = [
            [.write([Register.chipID]), .read(count: 1)],            // chip id
            [.write([Register.calibration]), .read(count: 26)],      // T1…P9, H1
            [.write([Register.humidityCalibration]), .read(count: 7)], // H2…H6
        ]
        #expect(recording.steps.map(\.operations) == detection)
        recording.clear()
        let readings = try sensor.read()
        let measurement: [[I2COperation]] = [
            [.write([Register.controlHumidity, 0x01])],              // osrs_h ×1
            [.write([Register.controlMeasurement, 0b001_001_01])],   // osrs_t ×1, osrs_p ×1, forced
            [.write([Register.status]), .read(count: 1)],            // measuring (bit 3) set
            [.write([Register.status]), .read(count: 1)],            // done
            [.write([Register.data]), .read(count: 8)],              // press, temp, hum in one burst
        ]
        #expect(recording.steps.map(\.operations) == measurement)
        // Datasheet §9.1: 1.25 + 2.3·T + (2.3·P + 0.575) + (2.3·H + 0.575) ms, all ×1.
        let maximumTime: Double = 1.25 + 2.3 + 2.875 + 2.875
        #expect(abs((sleeper.all.first ?? 0) - maximumTime) < 1e-9, "datasheet maximum measurement time")
        let byQuantity = Dictionary(uniqueKeysWithValues: readings.map { ($0.quantity, $0) })
        #expect(abs((byQuantity["temperature"]?.value ?? 0) - 294.65) < 0.01)
        #expect(byQuantity["temperature"]?.unit == "K")
        #expect(abs((byQuantity["relative_humidity"]?.value ?? 0) - 45) < 0.05)
        #expect(abs((byQuantity["pressure"]?.value ?? 0) - 101_320) < 1)
        #expect(readings.allSatisfy { !$0.outOfRange })
    }

    @Test func aBMP280ConfiguredAsABME280SaysSo() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(bmp280: true), at: 0x76)
        #expect(throws: SensorError(code: .wrongChip, message: "found chip-id 0x58 at 0x76: that is a BMP280, not a BME280; set `driver: bmp280`")) {
            _ = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        }
        let bmp = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bmp280, sleeper: RecordingSleeper())
        #expect(try bmp.read().map(\.quantity) == ["temperature", "pressure"])
    }

    @Test func nothingAtTheAddressIsANoAcknowledge() {
        let bus = SimulatedI2CBus(name: "/dev/i2c-1")
        #expect {
            _ = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x77), expected: .bme280, sleeper: RecordingSleeper())
        } throws: { error in
            guard let error = error as? SensorError else { return false }
            return error.code == .noAcknowledge && error.message.contains("no acknowledge from 0x77 on /dev/i2c-1")
        }
    }

    @Test func aStuckMeasuringBitEndsAfterBoundedPolls() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME280()
        bus.attach(chip, at: 0x76)
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        chip.setStuckMeasuring(true)
        #expect(throws: SensorError.self) { try sensor.read() }
        chip.setStuckMeasuring(false)
        #expect(try sensor.read().count == 3, "recovers once the chip does")
    }

    @Test func anSMBusOnlyAdapterUsesBlockReads() throws {
        let bus = SimulatedI2CBus(name: "i2c-stub", supportsPlainI2C: false)
        bus.attach(SimulatedBME280(celsius: -10, humidity: 80, hectopascal: 990), at: 0x76)
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        let readings = try sensor.read()
        #expect(abs((readings.first { $0.quantity == "temperature" }?.value ?? 0) - 263.15) < 0.01)
    }

    @Test func valuesOutsideTheOperatingRangeAreFlagged() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME280(celsius: 95)
        bus.attach(chip, at: 0x76)
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        #expect(try sensor.read().first { $0.quantity == "temperature" }?.outOfRange == true)
    }

    @Test func anIOErrorMidTransferIsReportedAndTheNextReadWorks() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(), at: 0x76)
        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: RecordingSleeper())
        bus.failWithIO(at: 0x76, after: 2)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .bus }
        #expect(try sensor.read().count == 3)
    }
}
