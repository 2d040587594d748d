import Hardware
import Synchronization

/// Bosch BME680 and BME688 (chip id 0x61 at D0h; variant id at F0h: 0x00
/// the BME680's "low gas" variant, 0x01 the BME688's "high"): temperature,
/// humidity, pressure and the metal-oxide gas sensor's resistance, in forced
/// mode (datasheet BST-BME680-DS001 §3.2.1, §3.3, §5.3). Each read sets the
/// heater set-point 0 (res_heat_0 from the configured temperature and the
/// last measured ambient temperature, gas_wait_0 from the configured
/// duration), runs gas with nb_conv 0, triggers one TPHG cycle, waits the
/// Bosch API's measurement time plus the heater time, and reads the data
/// registers from meas_status_0 (1Dh) on in one burst until new_data_0 is set.
///
/// The gas reading is marked `settling` while the heater's burn-in lasts
/// (`burnInSeconds` from the first read) and whenever heat_stab_r says the
/// heater did not reach its target. A cycle without a real gas conversion
/// (gas_valid_r = 0) gives no gas reading.
public final class BME680: Sensor {
    public enum Variant: String, Sendable {
        case bme680
        case bme688
    }

    enum Register {
        static let chipID: UInt8 = 0xD0
        static let variantID: UInt8 = 0xF0
        static let data: UInt8 = 0x1D        // meas_status_0, meas_index_0, press[3], temp[3], hum[2], …, gas_r
        static let resHeat0: UInt8 = 0x5A
        static let gasWait0: UInt8 = 0x64
        static let controlGas1: UInt8 = 0x71 // run_gas<5:4>, nb_conv<3:0>
        static let controlHumidity: UInt8 = 0x72
        static let controlMeasurement: UInt8 = 0x74
    }

    static let chipID: UInt8 = 0x61

    /// The heater set-point: target temperature (°C) and heater-on time (ms).
    public struct Heater: Equatable, Sendable {
        public var celsius: Double
        public var milliseconds: Int

        public init(celsius: Double = 320, milliseconds: Int = 150) {
            self.celsius = celsius
            self.milliseconds = milliseconds
        }

        /// Configurable bounds: the datasheet's typical 200…400 °C hot plate,
        /// and what gas_wait encodes (1…4032 ms).
        public static let celsiusRange: ClosedRange<Double> = 200...400
        public static let millisecondsRange: ClosedRange<Int> = 1...4032
    }

    /// Oversampling codes (datasheet §3.2.1's quick start: osrs_h ×1,
    /// osrs_t ×2, osrs_p ×16) and their ADC cycles (Bosch API
    /// bme68x_get_meas_dur: 0, 1, 2, 4, 8, 16).
    static let humidityOversampling: UInt8 = 0b001
    static let temperatureOversampling: UInt8 = 0b010
    static let pressureOversampling: UInt8 = 0b101
    static let cycles: [Int] = [0, 1, 2, 4, 8, 16]

    /// The TPHG cycle without the heater, in ms (Bosch API bme68x_get_meas_dur,
    /// forced mode): 1.963 ms per ADC cycle, 4 × 0.477 ms switching, 5 ×
    /// 0.477 ms gas measurement, 1 ms wake-up.
    static var measurementMilliseconds: Double {
        let adcCycles = cycles[Int(temperatureOversampling)] + cycles[Int(pressureOversampling)] + cycles[Int(humidityOversampling)]
        return (Double(adcCycles) * 1963 + 477 * 4 + 477 * 5 + 1000) / 1000
    }

    /// Polls of the data registers after the expected time, 10 ms apart (the
    /// API's BME68X_PERIOD_POLL), before giving up.
    static let dataPolls = 5
    /// Ambient temperature for res_heat before the first measurement (°C).
    public static let defaultAmbient: Double = 25

    public let name: String
    public let variant: Variant
    public var driver: String { "bme680" }
    public let device: I2CDevice
    public let calibration: BME680Calibration
    public let heater: Heater
    public let burnInSeconds: Double
    let sleeper: any Sleeper
    let clock: @Sendable () -> UInt64

    private struct State {
        var ambient = BME680.defaultAmbient
        var firstRead: UInt64?
    }
    private let state = Mutex(State())

    /// Detects the chip (chip id, variant id) and reads its calibration.
    /// `clock` is monotonic nanoseconds (tests move it).
    public init(name: String, device: I2CDevice, heater: Heater = Heater(), burnInSeconds: Double = 1800,
                sleeper: any Sleeper = SystemSleeper(), clock: @escaping @Sendable () -> UInt64 = PulseCounter.monotonicNow) throws(SensorError) {
        guard Heater.celsiusRange.contains(heater.celsius) else {
            throw SensorError(code: .config, message: "BME680: heater_temperature \(heater.celsius) °C is outside 200…400 °C; e.g. `heater_temperature: 320`")
        }
        guard Heater.millisecondsRange.contains(heater.milliseconds) else {
            throw SensorError(code: .config, message: "BME680: heater_duration \(heater.milliseconds) ms is outside 1…4032 ms (what gas_wait encodes); e.g. `heater_duration: 150`")
        }
        guard burnInSeconds >= 0, burnInSeconds.isFinite else {
            throw SensorError(code: .config, message: "BME680: burn_in \(burnInSeconds) s must be 0 or more seconds; e.g. `burn_in: 1800`")
        }
        let chip = "BME680 \(device.description)"
        let id: UInt8, variantID: UInt8
        do { id = try device.readRegister(Register.chipID) } catch { throw .bus(error, chip: chip) }
        guard id == Self.chipID else {
            let known: String
            switch id {
            case 0x60: known = ": that is a BME280; set `driver: bme280`"
            case 0x56, 0x57, 0x58: known = ": that is a BMP280; set `driver: bmp280`"
            default: known = ": that is not a BME680/BME688 (0x61); check the address (0x76 with SDO to GND, 0x77 with SDO to VDDIO)"
            }
            throw SensorError(code: .wrongChip, message: "found chip-id 0x\(I2CError.hex(UInt16(id))) at 0x\(I2CError.hex(device.address)) on \(device.bus.name)\(known)")
        }
        do { variantID = try device.readRegister(Register.variantID) } catch { throw .bus(error, chip: chip) }
        switch variantID {
        case 0x00: variant = .bme680
        case 0x01: variant = .bme688
        default:
            throw SensorError(code: .wrongChip, message: "\(chip): chip-id 0x61 but variant id 0x\(I2CError.hex(UInt16(variantID))) at F0h is neither a BME680 (0x00) nor a BME688 (0x01); this driver does not know that part")
        }
        let blocks: [[UInt8]]
        do {
            var read: [[UInt8]] = []
            for block in BME680Calibration.blocks { read.append(try device.readRegisters(block.start, count: block.count)) }
            blocks = read
        } catch {
            throw .bus(error, chip: chip)
        }
        guard blocks.count == 3, let calibration = BME680Calibration(blocks[0], blocks[1], blocks[2]) else {
            throw SensorError(code: .bus, message: "\(chip): the calibration registers came back short (\(blocks.map { String($0.count) }.joined(separator: "/")) of 23/14/5 bytes); check the wiring and pull-ups")
        }
        self.calibration = calibration
        self.name = name
        self.device = device
        self.heater = heater
        self.burnInSeconds = burnInSeconds
        self.sleeper = sleeper
        self.clock = clock
    }

    /// The registers a forced measurement writes, in order, for an ambient temperature.
    func controlWrites(ambient: Double) -> [(register: UInt8, value: UInt8)] {
        let runGas: UInt8 = variant == .bme688 ? 0b10 : 0b01 // run_gas_h / run_gas_l (BME68x API)
        return [
            (Register.resHeat0, calibration.heaterResistance(target: heater.celsius, ambient: ambient)),
            (Register.gasWait0, BME680Calibration.gasWait(milliseconds: heater.milliseconds)),
            (Register.controlGas1, runGas << 4 | 0), // nb_conv 0: heater set-point 0
            // ctrl_hum takes effect with the following ctrl_meas write (§5.3.2.1).
            (Register.controlHumidity, Self.humidityOversampling),
            (Register.controlMeasurement, Self.temperatureOversampling << 5 | Self.pressureOversampling << 2 | 0b01),
        ]
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let chip = "\(variant.rawValue.uppercased()) \(device.description)"
        func bus<T>(_ body: () throws(I2CError) -> T) throws(SensorError) -> T {
            do { return try body() } catch { throw .bus(error, chip: chip) }
        }
        let now = clock()
        let (ambient, firstRead) = state.withLock { state in
            if state.firstRead == nil { state.firstRead = now }
            return (state.ambient, state.firstRead ?? now)
        }
        for (register, value) in controlWrites(ambient: ambient) {
            try bus { () throws(I2CError) in try device.writeRegister(register, value) }
        }
        let heaterCode = BME680Calibration.gasWait(milliseconds: heater.milliseconds)
        sleeper.sleep(milliseconds: Self.measurementMilliseconds + Double(BME680Calibration.gasWaitMilliseconds(heaterCode)))
        // 0x1D…0x2B on a BME680; a BME688 keeps its gas result at 0x2C/0x2D.
        let count = variant == .bme688 ? 17 : 15
        var data: [UInt8] = []
        var polls = 0
        while true {
            data = try bus { () throws(I2CError) in try device.readRegisters(Register.data, count: count) }
            guard data.count == count else {
                throw SensorError(code: .bus, message: "\(chip): read \(data.count) of \(count) data bytes; check the wiring and pull-ups")
            }
            if data[0] & 0x80 != 0 { break } // new_data_0
            polls += 1
            guard polls < Self.dataPolls else {
                throw SensorError(code: .busy, message: "\(chip): no new data after \(polls) polls (new_data_0 at 1Dh never set); power-cycle the sensor")
            }
            sleeper.sleep(milliseconds: 10)
        }
        let adcP = Int(data[2]) << 12 | Int(data[3]) << 4 | Int(data[4]) >> 4
        let adcT = Int(data[5]) << 12 | Int(data[6]) << 4 | Int(data[7]) >> 4
        let adcH = Int(data[8]) << 8 | Int(data[9])
        if adcT == 0x80000 {
            throw SensorError(code: .noData, message: "\(chip): temperature measurement skipped (0x80000); the chip was reset meanwhile")
        }
        let (celsius, tFine) = calibration.temperature(adc: adcT)
        let pascal = calibration.pressure(adc: adcP, tFine: tFine)
        let humidity = calibration.humidity(adc: adcH, celsius: celsius)
        var readings = [
            SensorReading.temperature(celsius: celsius, range: -40...85),
            SensorReading.relativeHumidity(humidity),
            SensorReading(quantity: "pressure", value: pascal, unit: "Pa", outOfRange: !(30_000...110_000).contains(pascal)),
        ]
        // The gas result: gas_r<9:2> then gas_r<1:0>, gas_valid_r<5>, heat_stab_r<4>, gas_range_r<3:0>.
        let (msb, lsb) = variant == .bme688 ? (data[15], data[16]) : (data[13], data[14])
        let gasADC = Int(msb) << 2 | Int(lsb) >> 6
        let range = Int(lsb & 0x0F)
        let valid = lsb & 0x20 != 0
        let stable = lsb & 0x10 != 0
        if valid {
            let ohms = variant == .bme688 ? BME680Calibration.bme688GasResistance(adc: gasADC, range: range)
                : calibration.bme680GasResistance(adc: gasADC, range: range)
            let burningIn = Double(now &- firstRead) / 1e9 < burnInSeconds
            if ohms.isFinite, ohms > 0 {
                readings.append(SensorReading(quantity: "gas_resistance", value: ohms, unit: "Ohm", settling: burningIn || !stable))
            }
        }
        if celsius.isFinite { state.withLock { $0.ambient = max(-40, min(85, celsius)) } }
        return readings
    }
}
