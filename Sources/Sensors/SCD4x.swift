import Hardware

/// Sensirion SCD4x (SCD40/41): CO₂, temperature, humidity in periodic
/// measurement (a new value every 5 s). Each read asks "data ready?" (0xE4B8)
/// and reads the measurement (0xEC05: three CRC-checked words) when it is.
/// Detected by its serial number (0x3682), after stopping any running
/// periodic measurement (0x3F86, 500 ms).
public final class SCD4x: Sensor {
    enum Command {
        static let startPeriodic: [UInt8] = [0x21, 0xB1]
        static let stopPeriodic: [UInt8] = [0x3F, 0x86]
        static let readMeasurement: [UInt8] = [0xEC, 0x05]
        static let dataReady: [UInt8] = [0xE4, 0xB8]
        static let serialNumber: [UInt8] = [0x36, 0x82]
    }

    public let name: String
    public let driver = "scd4x"
    public let serialNumber: UInt64
    let protocolDevice: SensirionCommandDevice
    let sleeper: any Sleeper

    public init(name: String, device: I2CDevice, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        self.sleeper = sleeper
        protocolDevice = SensirionCommandDevice(device: device, chip: "SCD4x \(device.description)", sleeper: sleeper)
        try protocolDevice.send(Command.stopPeriodic)
        sleeper.sleep(milliseconds: 500)
        let words = try protocolDevice.words(Command.serialNumber, wait: 1, words: 3)
        serialNumber = UInt64(words[0]) << 32 | UInt64(words[1]) << 16 | UInt64(words[2])
        try protocolDevice.send(Command.startPeriodic)
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let ready = try protocolDevice.words(Command.dataReady, wait: 1, words: 1)
        // Datasheet §3.8.2: data ready when the 11 least significant bits are not all 0.
        guard ready[0] & 0x07FF != 0 else {
            throw SensorError(code: .notReady, message: "SCD4x: no new measurement yet (one every 5 s); read less often than every 5 s")
        }
        let words = try protocolDevice.words(Command.readMeasurement, wait: 1, words: 3)
        let ppm = Double(words[0])
        let celsius = -45 + 175 * Double(words[1]) / 65535
        let humidity = 100 * Double(words[2]) / 65535
        return [
            SensorReading(quantity: "carbon_dioxide", value: ppm, unit: "ppm", outOfRange: !(400...5000).contains(ppm)),
            .temperature(celsius: celsius, range: -10...60),
            .relativeHumidity(humidity),
        ]
    }
}
