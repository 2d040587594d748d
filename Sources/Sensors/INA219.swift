import Hardware

/// TI INA219 current/power monitor over an external shunt (SBOS448): bus
/// voltage, current and power. The calibration register is computed from the
/// configured shunt and the largest current expected (datasheet §8.5.1):
/// Current_LSB is a round value (1, 2, 2.5 or 5 × 10^n A) at or above max
/// current / 2^15, Cal = trunc(0.04096 / (Current_LSB × R_shunt)), Power_LSB
/// = 20 × Current_LSB. The chip has no id register: it
/// is detected by its configuration register reading 399Fh after a reset.
public final class INA219: Sensor {
    enum Register {
        static let configuration: UInt8 = 0x00
        static let shuntVoltage: UInt8 = 0x01
        static let busVoltage: UInt8 = 0x02
        static let power: UInt8 = 0x03
        static let current: UInt8 = 0x04
        static let calibration: UInt8 = 0x05
    }

    /// RST (bit 15); the power-on value: 32 V bus range, PGA ÷8 (±320 mV),
    /// 12-bit bus and shunt conversions, shunt and bus continuous (§8.6.2.1).
    static let reset: UInt16 = 0x8000
    static let resetConfiguration: UInt16 = 0x399F
    /// The shunt range at PGA ÷8: the largest current is 0.32 V / R_shunt.
    public static let maximumShuntVoltage = 0.32

    public let name: String
    public let driver = "ina219"
    let device: I2CDevice
    /// Amperes per bit of the current register; watts per bit of power.
    let currentLSB: Double
    let powerLSB: Double
    let calibration: UInt16

    /// `shuntOhms`: the shunt resistor (0.1 Ω on the common breakout boards);
    /// `maximumCurrent`: the largest current expected, in A (default: what
    /// the shunt allows at ±320 mV).
    public init(name: String, device: I2CDevice, shuntOhms: Double = 0.1, maximumCurrent: Double? = nil) throws(SensorError) {
        guard shuntOhms.isFinite, shuntOhms >= 0.0001, shuntOhms <= 100 else {
            throw SensorError(code: .config, message: "INA219: shunt_ohms \(shuntOhms) is not between 0.0001 and 100")
        }
        let possible = Self.maximumShuntVoltage / shuntOhms
        let expected = maximumCurrent ?? possible
        guard expected.isFinite, expected > 0, expected <= possible else {
            throw SensorError(code: .config, message: "INA219: max_current \(expected) A is more than the \(possible) A a \(shuntOhms) Ω shunt "
                + "gives at ±320 mV; use a smaller shunt or a lower max_current")
        }
        let currentLSB = Self.roundCurrentLSB(atLeast: expected / 32768)
        // Bit 0 of the calibration register is not used (§8.6.3.6).
        let value = (0.04096 / (currentLSB * shuntOhms)).rounded(.down)
        guard value >= 2, value <= 0xFFFE else {
            throw SensorError(code: .config, message: "INA219: shunt_ohms \(shuntOhms) and max_current \(expected) A give a calibration out of range")
        }
        self.name = name
        self.device = device
        self.currentLSB = currentLSB
        self.powerLSB = 20 * currentLSB
        self.calibration = UInt16(value) & 0xFFFE
        let configuration: UInt16
        do {
            try device.writeBigEndianWord(Register.configuration, Self.reset)
            configuration = try device.readBigEndianWord(Register.configuration)
        } catch {
            throw .bus(error, chip: "INA219 \(device.description)")
        }
        guard configuration == Self.resetConfiguration else {
            throw SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(device.address)) does not look like an INA219 "
                + "(configuration register 0x\(I2CError.hex(configuration)) after a reset, expected 0x399F)")
        }
        do { try device.writeBigEndianWord(Register.calibration, calibration) } catch { throw .bus(error, chip: "INA219 \(device.description)") }
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^n at or above `minimum` (the
    /// datasheet's example picks 20 µA for a minimum of 18.3 µA).
    static func roundCurrentLSB(atLeast minimum: Double) -> Double {
        var decade = 1e-9
        while true {
            for step in [1.0, 2.0, 2.5, 5.0] where step * decade >= minimum * (1 - 1e-12) { return step * decade }
            decade *= 10
        }
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let bus: UInt16, current: UInt16, power: UInt16, calibrationHeld: UInt16
        do {
            bus = try device.readBigEndianWord(Register.busVoltage)
            current = try device.readBigEndianWord(Register.current)
            power = try device.readBigEndianWord(Register.power)
            calibrationHeld = try device.readBigEndianWord(Register.calibration)
        } catch {
            throw .bus(error, chip: "INA219 \(device.description)")
        }
        // A chip that lost power (brown-out) comes back with calibration 0:
        // current and power then read 0. Program it again, report nothing now.
        guard calibrationHeld == calibration else {
            do { try device.writeBigEndianWord(Register.calibration, calibration) } catch { throw .bus(error, chip: "INA219 \(device.description)") }
            throw SensorError(code: .notReady, message: "INA219 \(device.description): the calibration was lost (a power dip?); written again")
        }
        // Bus voltage: bits 15…3, 4 mV each; OVF (bit 0): current or power overflowed (§8.6.3.2).
        let volts = Double(bus >> 3) * 0.004
        let overflow = bus & 1 == 1
        let amperes = Double(Int16(bitPattern: current)) * currentLSB
        let watts = Double(power) * powerLSB
        return [
            SensorReading(quantity: "voltage", value: volts, unit: "V", outOfRange: volts > 26),
            SensorReading(quantity: "current", value: amperes, unit: "A", outOfRange: overflow),
            SensorReading(quantity: "power", value: watts, unit: "W", outOfRange: overflow),
        ]
    }
}
