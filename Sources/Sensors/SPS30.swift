import Hardware

/// Sensirion SPS30 particulate matter sensor on I2C at 0x69 (its SEL pin to
/// GND at power-up; 5 V supply). Datasheet SPS30 v1.0 (March 2020), I2C part, with
/// the command set and timing checked against Sensirion's embedded-i2c-sps30:
/// 16-bit commands, every two data bytes followed by a CRC-8, in both
/// directions.
///
/// Detected by its product type (0xD002: the ASCII string "00080000"), then
/// the serial number (0xD033) and firmware version (0xD100) are read, the
/// chip is reset to Idle-Mode (0xD304, 100 ms), the auto fan-cleaning
/// interval written when configured (0x8004, 20 ms), and measurement started
/// with big-endian IEEE 754 floats (0x0010 with 0x0300, 20 ms). A new
/// measurement comes every second; each read asks "data ready?" (0x0202),
/// checks the device status register (0xD206, firmware 2.2 and later) and
/// reads the ten floats (0x0300: 60 bytes). `close()` stops measuring (0x0104).
public final class SPS30: Sensor {
    enum Command {
        static let startMeasurement: [UInt8] = [0x00, 0x10]
        static let stopMeasurement: [UInt8] = [0x01, 0x04]
        static let readDataReady: [UInt8] = [0x02, 0x02]
        static let readMeasuredValues: [UInt8] = [0x03, 0x00]
        static let autoCleaningInterval: [UInt8] = [0x80, 0x04]
        static let startFanCleaning: [UInt8] = [0x56, 0x07]
        static let readProductType: [UInt8] = [0xD0, 0x02]
        static let readSerialNumber: [UInt8] = [0xD0, 0x33]
        static let readFirmwareVersion: [UInt8] = [0xD1, 0x00]
        static let readDeviceStatus: [UInt8] = [0xD2, 0x06]
        static let clearDeviceStatus: [UInt8] = [0xD2, 0x10]
        static let reset: [UInt8] = [0xD3, 0x04]
    }

    /// Output format word of Start Measurement: 0x03 (floats), then a dummy 0x00.
    static let floatFormat: UInt16 = 0x0300
    /// What Read Product Type answers on every SPS30 (8 ASCII characters, no NUL).
    public static let productType = "00080000"
    /// The factory auto-cleaning interval: 168 h.
    public static let defaultCleaningInterval: UInt32 = 604_800
    /// Device status register bits (datasheet §4.4; Sensirion's embedded-sps masks).
    enum Status {
        static let fanSpeedWarning: UInt32 = 1 << 21
        static let laserError: UInt32 = 1 << 5
        static let fanError: UInt32 = 1 << 4
    }

    /// The datasheet's ranges (§1.1): mass 0–1000 µg/m³, number 0–3000 #/cm³,
    /// particle sizes 0.3–10 µm. (The stored datasheet copies we could read
    /// showed the mass range; the number range is as we know the table.)
    static let massRange: ClosedRange<Double> = 0...1000
    static let numberRange: ClosedRange<Double> = 0...3000
    static let sizeRange: ClosedRange<Double> = 0...10

    /// The ten floats of Read Measured Values in order, with their SI unit
    /// and the factor from the chip's unit (µg/m³, #/cm³, µm).
    static let values: [(quantity: String, what: String, unit: String, factor: Double, range: ClosedRange<Double>)] = [
        ("pm1_0", "PM1.0 mass concentration", "kg/m3", 1e-9, massRange),
        ("pm2_5", "PM2.5 mass concentration", "kg/m3", 1e-9, massRange),
        ("pm4_0", "PM4.0 mass concentration", "kg/m3", 1e-9, massRange),
        ("pm10", "PM10 mass concentration", "kg/m3", 1e-9, massRange),
        ("pm0_5_count", "PM0.5 number concentration", "1/m3", 1e6, numberRange),
        ("pm1_0_count", "PM1.0 number concentration", "1/m3", 1e6, numberRange),
        ("pm2_5_count", "PM2.5 number concentration", "1/m3", 1e6, numberRange),
        ("pm4_0_count", "PM4.0 number concentration", "1/m3", 1e6, numberRange),
        ("pm10_count", "PM10 number concentration", "1/m3", 1e6, numberRange),
        ("typical_particle_size", "typical particle size", "m", 1e-6, sizeRange),
    ]

    public let name: String
    public let driver = "sps30"
    /// Up to 31 ASCII characters, as the chip reports it.
    public let serialNumber: String
    public let firmwareVersion: (major: UInt8, minor: UInt8)
    let protocolDevice: SensirionCommandDevice
    let sleeper: any Sleeper
    let chip: String

    /// `cleaningInterval`: seconds between automatic fan cleanings, written to
    /// the chip (which keeps it); 0 disables them; nil leaves the chip's own.
    public init(name: String, device: I2CDevice, cleaningInterval: UInt32? = nil, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        self.sleeper = sleeper
        chip = "SPS30 \(device.description)"
        protocolDevice = SensirionCommandDevice(device: device, chip: chip, sleeper: sleeper)

        let typeWords: [UInt16]
        do {
            typeWords = try protocolDevice.words(Command.readProductType, wait: 0, words: 4)
        } catch {
            throw Self.detectionError(error, address: device.address, chip: chip)
        }
        let type = Self.ascii(typeWords)
        guard type == Self.productType else {
            throw SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(device.address)) is not an SPS30 (product type "
                + "\"\(type)\"; an SPS30 answers \"\(Self.productType)\")")
        }
        serialNumber = Self.ascii(try protocolDevice.words(Command.readSerialNumber, wait: 0, words: 16))
        let version = try protocolDevice.words(Command.readFirmwareVersion, wait: 0, words: 1)[0]
        firmwareVersion = (UInt8(version >> 8), UInt8(version & 0xFF))

        // Reset puts it in Idle-Mode whatever it was doing (a daemon restart
        // finds it measuring, and Start Measurement is refused there).
        try protocolDevice.send(Command.reset)
        sleeper.sleep(milliseconds: 100)
        if let cleaningInterval {
            try protocolDevice.send(Command.autoCleaningInterval + Self.encode([UInt16(cleaningInterval >> 16), UInt16(cleaningInterval & 0xFFFF)]))
            sleeper.sleep(milliseconds: 20)
        }
        try protocolDevice.send(Command.startMeasurement + Self.encode([Self.floatFormat]))
        sleeper.sleep(milliseconds: 20)
    }

    /// Status register from firmware 2.2 on (Sensirion's embedded-sps: "only works on firmware 2.2 or more recent").
    var hasStatusRegister: Bool { firmwareVersion.major > 2 || firmwareVersion.major == 2 && firmwareVersion.minor >= 2 }

    public func read() throws(SensorError) -> [SensorReading] {
        let ready = try protocolDevice.words(Command.readDataReady, wait: 0, words: 1)
        guard ready[0] & 0x00FF == 0x01 else {
            throw SensorError(code: .notReady, message: "SPS30: no new measurement yet (one every second, the first about a second after start); read less often than every second")
        }
        if hasStatusRegister { try checkStatus() }
        let words = try protocolDevice.words(Command.readMeasuredValues, wait: 0, words: 20)
        var readings: [SensorReading] = []
        for (index, value) in Self.values.enumerated() {
            let float = Float(bitPattern: UInt32(words[2 * index]) << 16 | UInt32(words[2 * index + 1]))
            // The float's shortest decimal (33.6, not 33.599998474), so the SI value carries no binary noise.
            let measured = Double(float.description) ?? Double(float)
            guard measured.isFinite, measured >= 0 else {
                throw SensorError(code: .badValue, message: "\(chip): the \(value.what) read as \(measured), which is not a measurement; "
                    + "if it persists, power-cycle the sensor")
            }
            readings.append(SensorReading(quantity: value.quantity, value: measured * value.factor, unit: value.unit,
                                          outOfRange: !value.range.contains(measured)))
        }
        return readings
    }

    /// A fan or laser error means the values are not measurements: reported,
    /// then cleared so the next read sees whether it persists (the chip sets
    /// it again if so). The fan-speed warning alone leaves readings valid.
    func checkStatus() throws(SensorError) {
        let words = try protocolDevice.words(Command.readDeviceStatus, wait: 0, words: 2)
        let status = UInt32(words[0]) << 16 | UInt32(words[1])
        var problems: [String] = []
        if status & Status.fanError != 0 {
            problems.append("fan error: the fan is switched on but does not turn (0 RPM); it is blocked or broken, check the inlet and outlet are free")
        }
        if status & Status.laserError != 0 {
            problems.append("laser error: the laser current is out of range")
        }
        guard !problems.isEmpty else { return }
        try protocolDevice.send(Command.clearDeviceStatus)
        sleeper.sleep(milliseconds: 5)
        throw SensorError(code: .noData, message: "\(chip): \(problems.joined(separator: "; ")) (status 0x\(Self.hex32(status))); "
            + "power-cycle the sensor, and replace it if the error comes back")
    }

    /// Starts a fan cleaning now (about 10 s at full fan speed; the values
    /// of those seconds are not valid). Only while measuring.
    public func startFanCleaning() throws(SensorError) {
        try protocolDevice.send(Command.startFanCleaning)
        sleeper.sleep(milliseconds: 5)
    }

    /// The automatic fan-cleaning interval in seconds (0: disabled). On
    /// firmware before 2.2 it reads the previous value until the next reset.
    public func cleaningInterval() throws(SensorError) -> UInt32 {
        let words = try protocolDevice.words(Command.autoCleaningInterval, wait: 5, words: 2)
        return UInt32(words[0]) << 16 | UInt32(words[1])
    }

    public func close() {
        try? protocolDevice.send(Command.stopMeasurement)
        sleeper.sleep(milliseconds: 20)
    }

    /// Words with their CRCs, as the chip takes them after a command.
    static func encode(_ words: [UInt16]) -> [UInt8] {
        words.flatMap { word -> [UInt8] in
            let pair = [UInt8(word >> 8), UInt8(word & 0xFF)]
            return pair + [SensirionCRC.checksum(pair)]
        }
    }

    /// ASCII bytes up to the first NUL; anything not printable as `?`.
    public static func ascii(_ words: [UInt16]) -> String {
        let bytes = words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }.prefix { $0 != 0 }
        return String(decoding: bytes.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    /// Detection failed: nothing answers (SEL not grounded leaves it in UART
    /// mode, off the bus), or something that is not an SPS30 does.
    static func detectionError(_ error: SensorError, address: UInt16, chip: String) -> SensorError {
        switch error.code {
        case .crc:
            return SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(address)) does not answer Read Product Type "
                + "with valid Sensirion CRCs: it is not an SPS30, or the wiring is bad (cable length, pull-ups)")
        case .noAcknowledge:
            var error = error
            error.message += "; an SPS30 is on I2C only with its SEL pin (4) tied to GND at power-up, and needs 5 V"
            return error
        default:
            return error
        }
    }

    static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
