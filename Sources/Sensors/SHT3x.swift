import Hardware

/// Sensirion SHT3x (SHT30/31/35): single shot, high repeatability, clock
/// stretching disabled (command 0x2400, at most 15.5 ms). Detected by
/// reading its status register (command 0xF32D, one CRC-checked word).
public final class SHT3x: Sensor {
    enum Command {
        static let singleShotHighNoStretch: [UInt8] = [0x24, 0x00]
        static let readStatus: [UInt8] = [0xF3, 0x2D]
    }

    public let name: String
    public let driver = "sht3x"
    let protocolDevice: SensirionCommandDevice

    public init(name: String, device: I2CDevice, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        protocolDevice = SensirionCommandDevice(device: device, chip: "SHT3x \(device.description)", sleeper: sleeper)
        _ = try protocolDevice.words(Command.readStatus, wait: 0, words: 1)
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let words = try protocolDevice.words(Command.singleShotHighNoStretch, wait: 15.5, words: 2)
        // Datasheet §4.13: T = -45 + 175·S_T/(2^16-1) °C, RH = 100·S_RH/(2^16-1) %.
        let celsius = -45 + 175 * Double(words[0]) / 65535
        let humidity = 100 * Double(words[1]) / 65535
        return [.temperature(celsius: celsius, range: -40...125), .relativeHumidity(humidity)]
    }
}
