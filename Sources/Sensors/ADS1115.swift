import Hardware

/// TI ADS1115 16-bit ADC: each configured channel (AIN0…AIN3 against GND)
/// in single-shot mode with a programmable gain; waits for the conversion
/// (the OS bit of the config register reads 1 again) and reads it.
/// Detected by its reset-default threshold registers (0x8000 / 0x7FFF).
public final class ADS1115: Sensor {
    enum Register {
        static let conversion: UInt8 = 0x00
        static let config: UInt8 = 0x01
        static let lowThreshold: UInt8 = 0x02
        static let highThreshold: UInt8 = 0x03
    }

    /// Full-scale range in volts and its PGA code (datasheet Table 8).
    public static let gains: [(fullScale: Double, code: UInt16)] = [
        (6.144, 0b000), (4.096, 0b001), (2.048, 0b010), (1.024, 0b011), (0.512, 0b100), (0.256, 0b101),
    ]

    public let name: String
    public let driver = "ads1115"
    let device: I2CDevice
    let channels: [Int]
    let fullScale: Double
    let gainCode: UInt16
    let sleeper: any Sleeper
    static let readyPolls = 20

    public init(name: String, device: I2CDevice, channels: [Int] = [0], fullScale: Double = 2.048, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        guard let gain = Self.gains.first(where: { abs($0.fullScale - fullScale) < 1e-9 }) else {
            throw SensorError(code: .config, message: "ADS1115: full scale \(fullScale) V is not one of 6.144, 4.096, 2.048, 1.024, 0.512, 0.256")
        }
        guard !channels.isEmpty, channels.allSatisfy({ (0...3).contains($0) }) else {
            throw SensorError(code: .config, message: "ADS1115: channels must be 0…3 (AIN0…AIN3)")
        }
        self.name = name
        self.device = device
        self.channels = channels
        self.fullScale = gain.fullScale
        self.gainCode = gain.code
        self.sleeper = sleeper
        let low: [UInt8], high: [UInt8]
        do {
            low = try device.writeRead([Register.lowThreshold], count: 2)
            high = try device.writeRead([Register.highThreshold], count: 2)
        } catch {
            throw .bus(error, chip: "ADS1115 \(device.description)")
        }
        guard low == [0x80, 0x00], high == [0x7F, 0xFF] else {
            throw SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(device.address)) does not look like an ADS1115 (threshold registers are not at their reset values)")
        }
    }

    public func read() throws(SensorError) -> [SensorReading] {
        var readings: [SensorReading] = []
        for channel in channels {
            // OS=1 (start), MUX=1xx (AINx vs GND), PGA, MODE=1 (single shot), DR=100 (128 SPS), comparator off (0b00011).
            let config: UInt16 = 1 << 15 | UInt16(0b100 | channel) << 12 | gainCode << 9 | 1 << 8 | 0b100 << 5 | 0b00011
            let raw: Int16
            do {
                try device.write([Register.config, UInt8(config >> 8), UInt8(config & 0xFF)])
                sleeper.sleep(milliseconds: 1000.0 / 128 + 0.1)
                var polls = 0
                while (try device.writeRead([Register.config], count: 2))[0] & 0x80 == 0 {
                    polls += 1
                    guard polls < Self.readyPolls else {
                        throw SensorError(code: .busy, message: "ADS1115 \(device.description): conversion did not finish")
                    }
                    sleeper.sleep(milliseconds: 1)
                }
                let bytes = try device.writeRead([Register.conversion], count: 2)
                raw = Int16(bitPattern: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
            } catch let error as SensorError {
                throw error
            } catch let error as I2CError {
                throw .bus(error, chip: "ADS1115 \(device.description)")
            } catch {
                throw SensorError(code: .bus, message: "ADS1115: \(error)")
            }
            let volts = Double(raw) * fullScale / 32768
            readings.append(SensorReading(quantity: "voltage_ain\(channel)", value: volts, unit: "V",
                                          outOfRange: raw == Int16.max || raw == Int16.min))
        }
        return readings
    }
}
