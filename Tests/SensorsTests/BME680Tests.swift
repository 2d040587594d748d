import Hardware
import Sensors
import SimulatedHardware
import Synchronization
import Testing

/// BME680/BME688: the encodings and formulas on their own, then the driver
/// against the simulated chip. Register addresses are written out again
/// here (not taken from the driver), so a typo in either fails.
@Suite struct BME680Tests {
    enum Register {
        static let chipID: UInt8 = 0xD0
        static let variantID: UInt8 = 0xF0
        static let data: UInt8 = 0x1D
        static let resHeat0: UInt8 = 0x5A
        static let gasWait0: UInt8 = 0x64
        static let controlGas1: UInt8 = 0x71
        static let controlHumidity: UInt8 = 0x72
        static let controlMeasurement: UInt8 = 0x74
    }

    /// A clock the test moves.
    final class Clock: Sendable {
        let nanoseconds = Mutex<UInt64>(1_000_000_000)
        func advance(seconds: Double) { nanoseconds.withLock { $0 += UInt64(seconds * 1e9) } }
        var now: @Sendable () -> UInt64 { { [self] in nanoseconds.withLock { $0 } } }
    }

    static let published = BME680Calibration(
        t1: 26195, t2: 26290, t3: 3, p1: 35395, p2: -10405, p3: 88, p4: 4836, p5: -118, p6: 30, p7: 26, p8: -765, p9: -3367, p10: 30,
        h1: 717, h2: 1021, h3: 0, h4: 45, h5: 20, h6: 120, h7: -100, gh1: -30, gh2: -5969, gh3: 18,
        resHeatRange: 1, resHeatVal: 50, rangeSwitchingError: 1)

    /// gas_wait_x: 6 bits of ms, factor ×1/×4/×16/×64 in bits 7:6 (§5.3.3.3).
    /// 100 ms → 0x59 is the datasheet's own example (§3.2.1: 25 × 4);
    /// 63 → 63, 64 → 80 (16 × 4), 4032 → 255 as elixir-sensors/bmp280's
    /// heater_duration_code doctests give them.
    @Test func gasWaitEncodesMillisecondsWithAMultiplicationFactor() {
        let cases: [(Int, UInt8, Int)] = [(1, 0x01, 1), (63, 63, 63), (64, 80, 64), (100, 0x59, 100), (150, 0x65, 148),
                                          (1000, 0b10_111110, 992), (4031, 0b11_111110, 3968), (4032, 0xFF, 4032)]
        for (milliseconds, code, waited) in cases {
            #expect(BME680Calibration.gasWait(milliseconds: milliseconds) == code, "\(milliseconds) ms")
            #expect(BME680Calibration.gasWaitMilliseconds(code) == waited, "\(milliseconds) ms")
        }
    }

    /// res_heat_x (§3.3.5, float): computed independently in python3 with
    /// the published trimming values (see BME680PlaybackTests):
    /// 320 °C at 25 °C → 116.85, 300 °C at 28 °C → 111.71 (elixir-sensors'
    /// doctest rounds it to 112; the datasheet's (uint8_t) truncates),
    /// 400 °C at 25 °C → 137.90, at −10 °C → 136.38; targets above 400 °C are capped.
    @Test func heaterResistanceFollowsTheTargetAndTheAmbientTemperature() {
        let calibration = Self.published
        #expect(calibration.heaterResistance(target: 320, ambient: 25) == 116)
        #expect(calibration.heaterResistance(target: 300, ambient: 28) == 111)
        #expect(calibration.heaterResistance(target: 400, ambient: 25) == 137)
        #expect(calibration.heaterResistance(target: 400, ambient: -10) == 136)
        #expect(calibration.heaterResistance(target: 450, ambient: 25) == 137)
    }

    /// The datasheet's range table (const_array1/2) against the BME68x
    /// API's float routine for the low-gas variant, an independent form of
    /// the same law: R = 1 / ((1 + k2/100)·1.25e−7·2^range·((gas_r − 512)/
    /// ((1340 + 5·rse)·(1 + k1/100)) + 1)), with its k1/k2 percent tables.
    @Test func bme680GasFormulaAgreesWithTheAPIsPercentTables() {
        let k1: [Double] = [0, 0, 0, 0, 0, -1, 0, -0.8, 0, 0, -0.2, -0.5, 0, -1, 0, 0]
        let k2: [Double] = [0, 0, 0, 0, 0.1, 0.7, 0, -0.8, -0.1, 0, 0, 0, 0, 0, 0, 0]
        for rse: Int8 in [-2, 0, 1] {
            var calibration = Self.published
            calibration.rangeSwitchingError = rse
            for range in 0..<16 {
                for adc in [0, 300, 512, 1023] {
                    let var2 = (1340 + 5 * Double(rse)) * (1 + k1[range] / 100)
                    let api = 1 / ((1 + k2[range] / 100) * 0.000000125 * Double(1 << range) * ((Double(adc) - 512) / var2 + 1))
                    let ours = calibration.bme680GasResistance(adc: adc, range: range)
                    // const_array2 is printed to 10 significant digits (63004.03226 …).
                    #expect(abs(ours - api) / api < 1e-7, "range \(range), gas_r \(adc), rse \(rse): \(ours) vs \(api)")
                }
            }
        }
    }

    /// A second published vector: pimoroni/bme680-python's
    /// library/tests/test_compensation.py with the calibration in its
    /// conftest.py (a dump from its issue #11). Its driver runs Bosch's
    /// integer routines: adc_T 501240 → 2669 (26.69 °C), adc_P 353485 →
    /// 98712 Pa, adc_H 19019 → 42402 (42.402 %), gas_r 0 in range 0 →
    /// 12946860 Ω. The float formulas used here give, in python3,
    /// 26.6931 °C, 98716.93 Pa, 42.4097 % and 12946859.90 Ω: the same within
    /// the integer routines' resolution (pressure's is a few Pa).
    @Test func pimoronisPublishedIntegerVectorAgrees() {
        let calibration = BME680Calibration(
            t1: 26041, t2: 26469, t3: 3, p1: 36673, p2: -10515, p3: 88, p4: 7310, p5: -129, p6: 30, p7: 46, p8: -3177, p9: -2379, p10: 30,
            h1: 676, h2: 1029, h3: 0, h4: 45, h5: 20, h6: 120, h7: -100, gh1: -30, gh2: -24754, gh3: 18,
            resHeatRange: 1, resHeatVal: 48, rangeSwitchingError: 0)
        let (celsius, tFine) = calibration.temperature(adc: 501_240)
        #expect(abs(celsius - 26.6931) < 0.0001)
        #expect(abs(celsius - 26.69) < 0.01, "pimoroni: 2669")
        let pascal = calibration.pressure(adc: 353_485, tFine: tFine)
        #expect(abs(pascal - 98_716.93) < 0.01)
        #expect(abs(pascal - 98_712) < 6, "pimoroni: 98712")
        let humidity = calibration.humidity(adc: 19_019, celsius: celsius)
        #expect(abs(humidity - 42.4097) < 0.0001)
        #expect(abs(humidity - 42.402) < 0.01, "pimoroni: 42402")
        #expect(abs(calibration.bme680GasResistance(adc: 0, range: 0) - 12_946_860) < 1, "pimoroni: 12946860")
    }

    /// 0x04 = 243 (0xF3) is range_switching_error −1, a signed nibble (as
    /// the Adafruit CircuitPython issue #31 found); the rest as laid out.
    @Test func calibrationBytesParseWithTheirSignsAndNibbles() throws {
        var c = BME680PlaybackTests.coefficients3
        c[4] = 0xF3
        c[2] = 0xEF // res_heat_range bits 5:4 = 0b10
        c[0] = 0xCE // res_heat_val −50
        let parsed = try #require(BME680Calibration(BME680PlaybackTests.coefficients1, BME680PlaybackTests.coefficients2, c))
        var expected = Self.published
        expected.rangeSwitchingError = -1
        expected.resHeatRange = 2
        expected.resHeatVal = -50
        #expect(parsed == expected)
        #expect(BME680Calibration(BME680PlaybackTests.coefficients1, [], c) == nil, "a short block")
    }

    @Test(arguments: [false, true])
    func readsWhatTheSimulatedChipMeasuresWithTheDatasheetSequence(bme688: Bool) throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME680(celsius: 21.8, humidity: 42, pascal: 101_250, gasOhms: 85_000, bme688: bme688)
        bus.attach(chip, at: 0x77)
        let recording = RecordingI2CBus(bus)
        let sleeper = RecordingSleeper()
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: recording, address: 0x77), burnInSeconds: 0, sleeper: sleeper)
        #expect(sensor.variant == (bme688 ? .bme688 : .bme680))
        #expect(recording.steps.map(\.operations) == [
            [.write([Register.chipID]), .read(count: 1)],
            [.write([Register.variantID]), .read(count: 1)],
            [.write([0x8A]), .read(count: 23)],
            [.write([0xE1]), .read(count: 14)],
            [.write([0x00]), .read(count: 5)],
        ])
        recording.clear()
        let readings = try sensor.read()
        let runGas: UInt8 = bme688 ? 0x20 : 0x10
        let code = Self.published.heaterResistance(target: 320, ambient: 25) // the simulated chip has these trimming values
        #expect(recording.steps.map(\.operations) == [
            [.write([Register.resHeat0, code])],
            [.write([Register.gasWait0, 0x65])],
            [.write([Register.controlGas1, runGas])],
            [.write([Register.controlHumidity, 0x01])],
            [.write([Register.controlMeasurement, 0x55])],
            [.write([Register.data]), .read(count: bme688 ? 17 : 15)],
        ])
        let byQuantity = Dictionary(uniqueKeysWithValues: readings.map { ($0.quantity, $0) })
        #expect(abs((byQuantity["temperature"]?.value ?? 0) - 294.95) < 0.01)
        #expect(abs((byQuantity["relative_humidity"]?.value ?? 0) - 42) < 0.01)
        #expect(abs((byQuantity["pressure"]?.value ?? 0) - 101_250) < 0.5)
        let ohms = byQuantity["gas_resistance"]?.value ?? 0
        #expect(abs(ohms - 85_000) / 85_000 < 0.005, "\(ohms)")
        #expect(byQuantity["gas_resistance"]?.unit == "Ohm")
        #expect(readings.allSatisfy { !$0.outOfRange && !$0.settling })
        #expect(chip.measurements == 1)
    }

    /// res_heat_0 is computed from the last measured temperature: at 400 °C
    /// the code differs between 25 °C (the first read) and −10 °C (137 / 136).
    @Test func theHeaterCodeFollowsTheMeasuredAmbientTemperature() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME680(celsius: -10)
        bus.attach(chip, at: 0x76)
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x76), heater: .init(celsius: 400, milliseconds: 100),
                                sleeper: RecordingSleeper())
        _ = try sensor.read()
        #expect(chip.register(Register.resHeat0) == 137)
        #expect(chip.register(Register.gasWait0) == 0x59)
        _ = try sensor.read()
        #expect(chip.register(Register.resHeat0) == 136)
    }

    @Test func theGasReadingIsNotSettledDuringBurnInNorWithAnUnstableHeater() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME680()
        bus.attach(chip, at: 0x77)
        let clock = Clock()
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x77), burnInSeconds: 60,
                                sleeper: RecordingSleeper(), clock: clock.now)
        func gas() throws -> SensorReading? { try sensor.read().first { $0.quantity == "gas_resistance" } }
        #expect(try gas()?.settling == true, "first read")
        clock.advance(seconds: 59.9)
        #expect(try gas()?.settling == true, "within the burn-in")
        clock.advance(seconds: 0.1)
        #expect(try gas()?.settling == false, "burn-in over")
        chip.setHeaterUnstable(true)
        let readings = try sensor.read()
        #expect(readings.first { $0.quantity == "gas_resistance" }?.settling == true, "heat_stab_r = 0")
        #expect(readings.filter { $0.quantity != "gas_resistance" }.allSatisfy { !$0.settling })
    }

    @Test func aHeaterTooShortToReachItsTargetIsFlaggedByTheChip() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME680(), at: 0x77)
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x77), heater: .init(celsius: 320, milliseconds: 10),
                                burnInSeconds: 0, sleeper: RecordingSleeper())
        #expect(try sensor.read().first { $0.quantity == "gas_resistance" }?.settling == true)
    }

    @Test func aChipThatNeverFinishesIsBusyAfterBoundedPolls() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME680()
        chip.setStuck(true)
        bus.attach(chip, at: 0x77)
        let sleeper = RecordingSleeper()
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x77), sleeper: sleeper)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .busy }
        #expect(sleeper.all.count == 5, "the measurement time, then 4 × 10 ms: \(sleeper.all)")
        chip.setStuck(false)
        chip.setReadsPerMeasurement(2)
        #expect(try sensor.read().count == 4, "new data on the third poll")
    }

    @Test(arguments: [(BME680.Heater(celsius: 500, milliseconds: 150), "heater_temperature"),
                      (BME680.Heater(celsius: 320, milliseconds: 0), "heater_duration"),
                      (BME680.Heater(celsius: 320, milliseconds: 5000), "heater_duration")])
    func heaterSettingsOutsideTheChipsRangeAreConfigurationErrors(heater: BME680.Heater, option: String) {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME680(), at: 0x77)
        #expect { _ = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x77), heater: heater, sleeper: RecordingSleeper()) }
            throws: { ($0 as? SensorError)?.code == .config && ($0 as? SensorError)?.message.contains(option) == true }
    }
}
