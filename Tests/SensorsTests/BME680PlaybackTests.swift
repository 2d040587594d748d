import Hardware
import Sensors
import SimulatedHardware
import Testing

/// BME680 and BME688 against bytes written out from published values, not
/// against our simulator. Registers written out again here from the
/// datasheet's memory map (BST-BME680-DS001 §5.2, Table 20) and the
/// calibration tables (§3.3, Tables 11–14).
@Suite struct BME680PlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Register {
        static let chipID: UInt8 = 0xD0
        static let variantID: UInt8 = 0xF0
        static let coefficients1: UInt8 = 0x8A  // par_t2 … par_p10, 23 bytes
        static let coefficients2: UInt8 = 0xE1  // par_h2 … par_g3, 14 bytes
        static let coefficients3: UInt8 = 0x00  // res_heat_val … range_switching_error, 5 bytes
        static let measStatus0: UInt8 = 0x1D    // then meas_index_0, press, temp, hum, …, gas_r
        static let resHeat0: UInt8 = 0x5A
        static let gasWait0: UInt8 = 0x64
        static let controlGas1: UInt8 = 0x71
        static let controlHumidity: UInt8 = 0x72
        static let controlMeasurement: UInt8 = 0x74
    }

    /// BME680 trimming values with raw readings and the values they give,
    /// published as elixir-sensors/bmp280's test
    /// (test/bmp280/sensor/bme680_sensor_test.exs): par_t1 26195, par_t2
    /// 26290, par_t3 3, par_p1 35395, par_p2 −10405, par_p3 88, par_p4 4836,
    /// par_p5 −118, par_p6 30, par_p7 26, par_p8 −765, par_p9 −3367, par_p10
    /// 30, par_h1 717, par_h2 1021, par_h3 0, par_h4 45, par_h5 20, par_h6
    /// 120, par_h7 −100, par_g1 −30, par_g2 −5969, par_g3 18,
    /// range_switching_error 1, res_heat_val 50, res_heat_range 1; raw
    /// pressure 393705, temperature 480732, humidity 16820, gas_r 666 in
    /// gas_range 11 → 19.3113 °C, 100977.52 Pa, 25.2 %RH.
    /// Packed here as the datasheet's tables lay them out (little-endian
    /// pairs; 0xE2 holds par_h2<3:0> in its high and par_h1<3:0> in its low
    /// nibble; res_heat_range in 0x02<5:4>, range_switching_error in 0x04<7:4>).
    static let coefficients1: [UInt8] = [
        0xB2, 0x66, 0x03, 0x00,               // 0x8A/8B par_t2 26290, 0x8C par_t3 3, 0x8D —
        0x43, 0x8A, 0x5B, 0xD7, 0x58, 0x00,   // 0x8E/8F par_p1 35395, 0x90/91 par_p2 −10405, 0x92 par_p3 88, 0x93 —
        0xE4, 0x12, 0x8A, 0xFF, 0x1A, 0x1E,   // 0x94/95 par_p4 4836, 0x96/97 par_p5 −118, 0x98 par_p7 26, 0x99 par_p6 30
        0x00, 0x00, 0x03, 0xFD, 0xD9, 0xF2,   // 0x9A/9B —, 0x9C/9D par_p8 −765, 0x9E/9F par_p9 −3367
        0x1E,                                 // 0xA0 par_p10 30
    ]
    static let coefficients2: [UInt8] = [
        0x3F, 0xDD, 0x2C,                     // par_h2 = 0x3F·16 + 0xD = 1021, par_h1 = 0x2C·16 + 0xD = 717
        0x00, 0x2D, 0x14, 0x78, 0x9C,         // par_h3 0, par_h4 45, par_h5 20, par_h6 120, par_h7 −100
        0x53, 0x66, 0xAF, 0xE8, 0xE2, 0x12,   // 0xE9/EA par_t1 26195, 0xEB/EC par_g2 −5969, 0xED par_g1 −30, 0xEE par_g3 18
    ]
    static let coefficients3: [UInt8] = [0x32, 0x00, 0x10, 0x00, 0x10] // res_heat_val 50, res_heat_range 1, range_switching_error 1

    /// meas_status_0 … gas_r_lsb (0x1D…0x2B): new_data_0, meas_index 0,
    /// pressure 393705 = 0x601E9, temperature 480732 = 0x755DC, humidity
    /// 16820 = 0x41B4, three unused bytes, gas_r 666 = 0x29A as
    /// gas_r<9:2> = 0xA6 and gas_r<1:0> = 0b10 at bits 7:6 of 0x2B.
    static func data(gasStatus: UInt8) -> [UInt8] {
        [0x80, 0x00, 0x60, 0x1E, 0x90, 0x75, 0x5D, 0xC0, 0x41, 0xB4, 0x00, 0x00, 0x00, 0xA6, 0x80 | gasStatus | 0x0B]
    }

    static func detection(_ address: UInt16, variant: UInt8) -> [Step] {
        [
            Step(address: address, write: [Register.chipID], read: [0x61], "chip_id 0x61 (§5.3.4)"),
            Step(address: address, write: [Register.variantID], read: [variant], "variant_id"),
            Step(address: address, write: [Register.coefficients1], read: coefficients1, "Calibration 0x8A…0xA0"),
            Step(address: address, write: [Register.coefficients2], read: coefficients2, "Calibration 0xE1…0xEE"),
            Step(address: address, write: [Register.coefficients3], read: coefficients3, "Calibration 0x00…0x04"),
        ]
    }

    /// The datasheet's forced-mode configuration flow (§3.2.2) for 320 °C,
    /// 150 ms at 25 °C ambient. res_heat_0: the datasheet's float formula
    /// (§3.3.5), computed independently in python3 with the values above:
    /// var1 = −30/16 + 49, var2 = −5969/32768·0.0005 + 0.00235,
    /// var3 = 18/1024, var5 = var1·(1 + var2·320) + var3·25,
    /// 3.4·(var5·4/5·1/(1 + 50·0.002) − 25) = 116.85 → (uint8) 116 = 0x74.
    /// gas_wait_0: 150 ms = 37 × 4 → 0b01_100101 = 0x65 (148 ms).
    static func trigger(_ address: UInt16, runGas: UInt8) -> [Step] {
        [
            Step(address: address, write: [Register.resHeat0, 0x74], "res_heat_0: 320 °C at 25 °C"),
            Step(address: address, write: [Register.gasWait0, 0x65], "gas_wait_0: 148 ms"),
            Step(address: address, write: [Register.controlGas1, runGas], "ctrl_gas_1: run_gas, nb_conv 0"),
            Step(address: address, write: [Register.controlHumidity, 0b001], "ctrl_hum: osrs_h ×1"),
            Step(address: address, write: [Register.controlMeasurement, 0b010_101_01], "ctrl_meas: osrs_t ×2, osrs_p ×16, forced"),
        ]
    }

    @Test func bme680ReproducesThePublishedVector() throws {
        let address: UInt16 = 0x77
        let bus = PlaybackI2CBus(Self.detection(address, variant: 0x00) + Self.trigger(address, runGas: 0x10) + [
            Step(address: address, write: [Register.measStatus0], read: Self.data(gasStatus: 0x30),
                 "0x1D…0x2B: new data; gas_valid_r and heat_stab_r set, gas_range 11"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: address), burnInSeconds: 0, sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        #expect(sensor.variant == .bme680)
        #expect(readings.map(\.quantity) == ["temperature", "relative_humidity", "pressure", "gas_resistance"])
        #expect(readings.map(\.unit) == ["K", "%", "Pa", "Ohm"])
        #expect(abs(readings[0].value - 273.15 - 19.3113) < 0.0001)
        // Published to ±0.1; the datasheet's float formula gives 25.2049 (python3).
        #expect(abs(readings[1].value - 25.2049) < 0.001)
        #expect(abs(readings[2].value - 100_977.52) < 0.01)
        // Datasheet §3.4.1: var1 = (1340 + 5·1)·0.995, R = var1·3906.25/(666 − 512 + var1)
        // = 3503.1323 Ω (python3). The published 3503.6322 runs the datasheet's
        // integer routine in floats, whose (var3 + var2/2)/var2 adds exactly ½.
        #expect(abs(readings[3].value - 3503.1323) < 0.001)
        #expect(readings.allSatisfy { !$0.outOfRange && !$0.settling })
        // Bosch API bme68x_get_meas_dur: (2 + 16 + 1)·1.963 + 4·0.477 + 5·0.477 + 1 = 42.59 ms, plus 148 ms of heater.
        #expect(sleeper.all.count == 1 && abs(sleeper.total - 190.59) < 1e-9, "\(sleeper.all)")
    }

    /// The BME688 keeps its gas result in 0x2C/0x2D and uses the BME68x
    /// API's "high" formula, R = 10⁶·(262144 >> range)/(4096 + 3·(gas_r − 512)):
    /// gas_r 666, range 11 → 10⁶·128/4558 = 28082.49 Ω (python3). 0x2A/0x2B
    /// hold something else here, so reading the BME680's registers would show.
    @Test func bme688UsesItsOwnGasRegistersRunGasBitsAndFormula() throws {
        let address: UInt16 = 0x76
        let data: [UInt8] = Array(Self.data(gasStatus: 0x00).prefix(13)) + [0x11, 0x22, 0xA6, 0x80 | 0x30 | 0x0B]
        let bus = PlaybackI2CBus(Self.detection(address, variant: 0x01) + Self.trigger(address, runGas: 0x20) + [
            Step(address: address, write: [Register.measStatus0], read: data, "0x1D…0x2D"),
        ])
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: address), burnInSeconds: 0, sleeper: RecordingSleeper())
        let readings = try sensor.read()
        try bus.done()
        #expect(sensor.variant == .bme688)
        #expect(abs(readings[0].value - 273.15 - 19.3113) < 0.0001)
        #expect(abs(readings[3].value - 28_082.4923) < 0.001)
        #expect(!readings[3].settling)
    }

    /// heat_stab_r = 0: the heater did not reach its target (§3.4), so the
    /// value is reported and marked not settled. The first burst comes
    /// before new_data_0 is set and is polled again after 10 ms.
    @Test func anUnstableHeaterMarksTheGasReadingAndNewDataIsPolled() throws {
        let address: UInt16 = 0x77
        var notYet = Self.data(gasStatus: 0x20)
        notYet[0] = 0x20 // measuring
        let bus = PlaybackI2CBus(Self.detection(address, variant: 0x00) + Self.trigger(address, runGas: 0x10) + [
            Step(address: address, write: [Register.measStatus0], read: notYet, "measuring, no new data yet"),
            Step(address: address, write: [Register.measStatus0], read: Self.data(gasStatus: 0x20), "gas_valid_r, heat_stab_r 0"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: address), burnInSeconds: 0, sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings.count == 4)
        #expect(readings[3].settling, "heat_stab_r = 0")
        #expect(!readings[0].settling && !readings[1].settling && !readings[2].settling)
        #expect(sleeper.all.count == 2 && sleeper.all[1] == 10)
    }

    /// gas_valid_r = 0: a dummy conversion (§5.3.5.5), no gas value at all.
    @Test func aDummyGasConversionGivesNoGasReading() throws {
        let address: UInt16 = 0x77
        let bus = PlaybackI2CBus(Self.detection(address, variant: 0x00) + Self.trigger(address, runGas: 0x10) + [
            Step(address: address, write: [Register.measStatus0], read: Self.data(gasStatus: 0x10), "gas_valid_r 0"),
        ])
        let sensor = try BME680(name: "gas", device: I2CDevice(bus: bus, address: address), burnInSeconds: 0, sleeper: RecordingSleeper())
        #expect(try sensor.read().map(\.quantity) == ["temperature", "relative_humidity", "pressure"])
        try bus.done()
    }

    @Test(arguments: [(UInt8(0x60), "set `driver: bme280`"), (0x58, "set `driver: bmp280`"), (0x00, "check the address")])
    func anotherBoschChipAtTheAddressIsNamedAfterTheChipIDAlone(id: UInt8, fix: String) throws {
        let bus = PlaybackI2CBus([Step(address: 0x76, write: [Register.chipID], read: [id], "Chip ID")])
        do {
            _ = try BME680(name: "gas", device: I2CDevice(bus: bus, address: 0x76), sleeper: RecordingSleeper())
            Issue.record("accepted chip-id \(id)")
        } catch {
            #expect(error.code == .wrongChip)
            #expect(error.message.contains(fix), "\(error)")
        }
        try bus.done()
    }
}
