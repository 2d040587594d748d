import Hardware

/// TI INA260 current/power monitor with its own 2 mΩ shunt (SBOS656): bus
/// voltage (1.25 mV per bit), current (1.25 mA per bit, signed) and power
/// (10 mW per bit), no calibration (§8.6.1). Detected by its manufacturer id
/// 5449h ("TI") at FEh and its die id 227h at FFh (bits 15…4, §8.6.2.8–9).
/// The averaging is set from config; conversions stay at the reset 1.1 ms.
public final class INA260: Sensor {
    enum Register {
        static let configuration: UInt8 = 0x00
        static let current: UInt8 = 0x01
        static let busVoltage: UInt8 = 0x02
        static let power: UInt8 = 0x03
        static let manufacturerID: UInt8 = 0xFE
        static let dieID: UInt8 = 0xFF
    }

    static let manufacturer: UInt16 = 0x5449
    static let die: UInt16 = 0x227
    /// Samples averaged per reading and their AVG code (§8.6.2.1).
    public static let averages: [(count: Int, code: UInt16)] = [
        (1, 0b000), (4, 0b001), (16, 0b010), (64, 0b011), (128, 0b100), (256, 0b101), (512, 0b110), (1024, 0b111),
    ]

    public let name: String
    public let driver = "ina260"
    let device: I2CDevice

    public init(name: String, device: I2CDevice, averaging: Int = 1) throws(SensorError) {
        guard let average = Self.averages.first(where: { $0.count == averaging }) else {
            throw SensorError(code: .config, message: "INA260: averaging \(averaging) is not one of \(Self.averages.map { String($0.count) }.joined(separator: ", "))")
        }
        self.name = name
        self.device = device
        let manufacturer: UInt16, die: UInt16
        do {
            manufacturer = try device.readBigEndianWord(Register.manufacturerID)
            die = try device.readBigEndianWord(Register.dieID)
        } catch {
            throw .bus(error, chip: "INA260 \(device.description)")
        }
        guard manufacturer == Self.manufacturer, die >> 4 == Self.die else {
            throw SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(device.address)) is not an INA260 (manufacturer id "
                + "0x\(I2CError.hex(manufacturer)), die id 0x\(I2CError.hex(die)); an INA260 has 0x5449 and 0x227x)")
        }
        // The reset value 6127h with AVG (bits 11…9) set: 0110 AVG 100 100 111
        // (VBUSCT = ISHCT = 1.1 ms, current and voltage continuous).
        let configuration: UInt16 = 0x6127 & ~(0b111 << 9) | average.code << 9
        do { try device.writeBigEndianWord(Register.configuration, configuration) } catch { throw .bus(error, chip: "INA260 \(device.description)") }
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let current: UInt16, bus: UInt16, power: UInt16
        do {
            current = try device.readBigEndianWord(Register.current)
            bus = try device.readBigEndianWord(Register.busVoltage)
            power = try device.readBigEndianWord(Register.power)
        } catch {
            throw .bus(error, chip: "INA260 \(device.description)")
        }
        let volts = Double(bus) * 0.00125
        let amperes = Double(Int16(bitPattern: current)) * 0.00125
        return [
            // Its bus input is specified to 36 V; the register reads to 40.96 V.
            SensorReading(quantity: "voltage", value: volts, unit: "V", outOfRange: volts > 36),
            SensorReading(quantity: "current", value: amperes, unit: "A", outOfRange: abs(amperes) > 15),
            SensorReading(quantity: "power", value: Double(power) * 0.01, unit: "W"),
        ]
    }
}
