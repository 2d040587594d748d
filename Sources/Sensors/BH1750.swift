import Hardware

/// ROHM BH1750FVI ambient light: one-time high-resolution mode (0x20, at
/// most 180 ms, then it powers down by itself). It has no id register: it is
/// detected by acknowledging "power on" (0x01).
public final class BH1750: Sensor {
    enum Command {
        static let powerOn: UInt8 = 0x01
        static let oneTimeHighResolution: UInt8 = 0x20
    }

    public let name: String
    public let driver = "bh1750"
    let device: I2CDevice
    let sleeper: any Sleeper

    public init(name: String, device: I2CDevice, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        self.device = device
        self.sleeper = sleeper
        do { try device.write([Command.powerOn]) } catch { throw .bus(error, chip: "BH1750 \(device.description)") }
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let bytes: [UInt8]
        do {
            try device.write([Command.oneTimeHighResolution])
            sleeper.sleep(milliseconds: 180)
            bytes = try device.read(count: 2)
        } catch {
            throw .bus(error, chip: "BH1750 \(device.description)")
        }
        // Datasheet p. 7: lx = count / 1.2 (default measurement time register 69).
        let lux = Double(UInt16(bytes[0]) << 8 | UInt16(bytes[1])) / 1.2
        return [SensorReading(quantity: "illuminance", value: lux, unit: "lx", outOfRange: lux > 65535 / 1.2 - 1)]
    }
}
