import Hardware

/// Bosch BME280 (temperature, humidity, pressure; chip id 0x60) and BMP280
/// (temperature, pressure; chip id 0x58), in forced mode: each read triggers
/// one measurement, waits the datasheet's maximum measurement time, polls
/// the "measuring" bit, then reads all data registers in one burst.
public final class BME280: Sensor {
    public enum Variant: String, Sendable {
        case bme280
        case bmp280
    }

    enum Register {
        static let chipID: UInt8 = 0xD0
        static let reset: UInt8 = 0xE0
        static let calibration: UInt8 = 0x88   // 26 bytes: T1…P9, H1
        static let humidityCalibration: UInt8 = 0xE1 // 7 bytes: H2…H6
        static let controlHumidity: UInt8 = 0xF2
        static let status: UInt8 = 0xF3
        static let controlMeasurement: UInt8 = 0xF4
        static let config: UInt8 = 0xF5
        static let data: UInt8 = 0xF7          // press[3], temp[3], hum[2]
    }

    /// Oversampling ×1, ×2, ×4, ×8 or ×16 (register codes 1…5).
    public struct Oversampling: Equatable, Sendable {
        public var temperature: Int
        public var pressure: Int
        public var humidity: Int

        public init(temperature: Int = 1, pressure: Int = 1, humidity: Int = 1) {
            self.temperature = temperature
            self.pressure = pressure
            self.humidity = humidity
        }

        static func code(_ factor: Int) -> UInt8 {
            switch factor {
            case ...0: return 0
            case 1: return 1
            case 2: return 2
            case 3...4: return 3
            case 5...8: return 4
            default: return 5
            }
        }

        /// Datasheet §9.1, maximum measurement time in ms.
        func maximumMeasurementMilliseconds(humidity hasHumidity: Bool) -> Double {
            1.25 + 2.3 * Double(temperature) + (2.3 * Double(pressure) + 0.575) + (hasHumidity ? 2.3 * Double(humidity) + 0.575 : 0)
        }
    }

    public let name: String
    public let variant: Variant
    public var driver: String { variant.rawValue }
    public let device: I2CDevice
    public let calibration: BME280Calibration
    let oversampling: Oversampling
    let sleeper: any Sleeper
    /// Polls of the status register after the expected time, before giving up.
    static let statusPolls = 10

    /// Detects the chip (id register) and reads its calibration. `expected`
    /// names the configured driver, so a BMP280 configured as a BME280 is
    /// an error that says so.
    public init(name: String, device: I2CDevice, expected: Variant, oversampling: Oversampling = Oversampling(),
                sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        let id: UInt8
        do { id = try device.readRegister(Register.chipID) } catch { throw .bus(error, chip: "BME280 \(device.description)") }
        let found: Variant?
        switch id {
        case 0x60: found = .bme280
        case 0x56, 0x57, 0x58: found = .bmp280
        default: found = nil
        }
        guard let found else {
            throw SensorError(code: .wrongChip, message: "found chip-id 0x\(I2CError.hex(UInt16(id))) at 0x\(I2CError.hex(device.address)) on \(device.bus.name): that is not a BME280 or BMP280 (0x60 / 0x58); check the address")
        }
        guard found == expected else {
            throw SensorError(code: .wrongChip, message: "found chip-id 0x\(I2CError.hex(UInt16(id))) at 0x\(I2CError.hex(device.address)): that is a \(found.rawValue.uppercased()), not a \(expected.rawValue.uppercased()); set `driver: \(found.rawValue)`")
        }
        do {
            let tp = try device.readRegisters(Register.calibration, count: 26)
            let h = expected == .bme280 ? try device.readRegisters(Register.humidityCalibration, count: 7) : nil
            calibration = BME280Calibration(temperatureAndPressure: tp, humidity: h)
        } catch {
            throw .bus(error, chip: "\(expected.rawValue.uppercased()) \(device.description)")
        }
        self.name = name
        self.variant = expected
        self.device = device
        self.oversampling = oversampling
        self.sleeper = sleeper
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let chip = "\(variant.rawValue.uppercased()) \(device.description)"
        func bus<T>(_ body: () throws(I2CError) -> T) throws(SensorError) -> T {
            do { return try body() } catch { throw .bus(error, chip: chip) }
        }
        let data: [UInt8]
        do {
            if variant == .bme280 {
                // ctrl_hum takes effect only after a write to ctrl_meas (datasheet §5.4.3).
                try bus { () throws(I2CError) in try device.writeRegister(Register.controlHumidity, Oversampling.code(oversampling.humidity)) }
            }
            let control = Oversampling.code(oversampling.temperature) << 5 | Oversampling.code(oversampling.pressure) << 2 | 0b01
            try bus { () throws(I2CError) in try device.writeRegister(Register.controlMeasurement, control) }
            sleeper.sleep(milliseconds: oversampling.maximumMeasurementMilliseconds(humidity: variant == .bme280))
            var polls = 0
            while try bus({ () throws(I2CError) in try device.readRegister(Register.status) }) & 0x08 != 0 {
                polls += 1
                guard polls < Self.statusPolls else {
                    throw SensorError(code: .busy, message: "\(chip): still measuring after \(polls) polls (status bit 3 stuck); power-cycle the sensor")
                }
                sleeper.sleep(milliseconds: 1)
            }
            data = try bus { () throws(I2CError) in try device.readRegisters(Register.data, count: variant == .bme280 ? 8 : 6) }
        }
        let adcP = Int32(data[0]) << 12 | Int32(data[1]) << 4 | Int32(data[2]) >> 4
        let adcT = Int32(data[3]) << 12 | Int32(data[4]) << 4 | Int32(data[5]) >> 4
        if adcT == 0x80000 {
            throw SensorError(code: .noData, message: "\(chip): temperature measurement skipped (0x80000); the chip was reset meanwhile")
        }
        let (celsius, tFine) = calibration.temperature(adc: adcT)
        let pascal = calibration.pressure(adc: adcP, tFine: tFine)
        var readings = [
            SensorReading.temperature(celsius: celsius, range: -40...85),
            SensorReading(quantity: "pressure", value: pascal, unit: "Pa", outOfRange: !(30_000...110_000).contains(pascal)),
        ]
        if variant == .bme280 {
            let adcH = Int32(data[6]) << 8 | Int32(data[7])
            readings.append(.relativeHumidity(calibration.humidity(adc: adcH, tFine: tFine)))
        }
        return readings
    }
}
