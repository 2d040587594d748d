import Hardware

/// Sensirion SHT4x (SHT40/41/45): temperature and humidity, high-precision
/// single shot (command 0xFD, at most 8.3 ms). Detected by reading its
/// serial number (command 0x89, two CRC-checked words).
public final class SHT4x: Sensor {
    enum Command {
        static let measureHighPrecision: UInt8 = 0xFD
        static let readSerial: UInt8 = 0x89
        static let softReset: UInt8 = 0x94
    }

    public let name: String
    public let driver = "sht4x"
    public let serialNumber: UInt32
    let protocolDevice: SensirionCommandDevice

    public init(name: String, device: I2CDevice, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        protocolDevice = SensirionCommandDevice(device: device, chip: "SHT4x \(device.description)", sleeper: sleeper)
        let words = try protocolDevice.words([Command.readSerial], wait: 1, words: 2)
        serialNumber = UInt32(words[0]) << 16 | UInt32(words[1])
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let words = try protocolDevice.words([Command.measureHighPrecision], wait: 8.3, words: 2)
        // Datasheet §4.6: T = -45 + 175·S_T/65535 °C, RH = -6 + 125·S_RH/65535 %, cropped to 0…100.
        let celsius = -45 + 175 * Double(words[0]) / 65535
        let humidity = min(100, max(0, -6 + 125 * Double(words[1]) / 65535))
        return [.temperature(celsius: celsius, range: -40...125), .relativeHumidity(humidity)]
    }
}
