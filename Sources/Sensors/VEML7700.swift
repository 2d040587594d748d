import Hardware
import Synchronization

/// Vishay VEML7700 ambient light sensor at its fixed address 0x10 (datasheet
/// 84286; application note 84323 "Designing the VEML7700 Into an
/// Application"). 16-bit registers, command code then LSB, MSB: ALS_CONF
/// (00h: gain bits 12:11, integration time bits 9:6, persistence 5:4,
/// interrupt enable 1, shut down 0), ALS (04h), WHITE (05h).
///
/// It has no id register (command codes 00h–06h, as in the VEML6030
/// datasheet rev 1.2, the same chip in another package, and in the drivers
/// we read), so detection is weak: the configuration written must be
/// acknowledged and read back.
///
/// Resolution: 0.0042 lx/count at gain 2 and 800 ms, scaled by gain and
/// integration time (datasheet rev 1.7 and the application note; Vishay's
/// change notice to rev 1.7 calls the earlier 0.0036 wrong). At gain 1/8 and
/// 1/4 the application note's non-linearity correction is applied.
public final class VEML7700: Sensor {
    enum Register {
        static let configuration: UInt8 = 0x00
        static let als: UInt8 = 0x04
    }

    /// ALS_GAIN codes (bits 12:11).
    public enum Gain: String, CaseIterable, Sendable {
        case eighth = "1/8", quarter = "1/4", one = "1", two = "2"
        var code: UInt16 { switch self { case .one: 0b00; case .two: 0b01; case .eighth: 0b10; case .quarter: 0b11 } }
        public var factor: Double { switch self { case .eighth: 0.125; case .quarter: 0.25; case .one: 1; case .two: 2 } }
    }

    /// ALS_IT codes (bits 9:6), in milliseconds.
    public enum IntegrationTime: Int, CaseIterable, Sendable {
        case ms25 = 25, ms50 = 50, ms100 = 100, ms200 = 200, ms400 = 400, ms800 = 800
        var code: UInt16 {
            switch self { case .ms25: 0b1100; case .ms50: 0b1000; case .ms100: 0b0000; case .ms200: 0b0001; case .ms400: 0b0010; case .ms800: 0b0011 }
        }
    }

    public struct Setting: Equatable, Sendable, CustomStringConvertible {
        public var gain: Gain
        public var integrationTime: IntegrationTime
        public init(_ gain: Gain, _ integrationTime: IntegrationTime) {
            self.gain = gain
            self.integrationTime = integrationTime
        }

        /// ALS_CONF: persistence 1, interrupt off, powered on.
        var configuration: UInt16 { gain.code << 11 | integrationTime.code << 6 }
        /// lx per count.
        public var resolution: Double { VEML7700.resolutionAtMaximum * (2 / gain.factor) * (800 / Double(integrationTime.rawValue)) }
        /// A conversion after a change: the one under way, then a whole one.
        var settleMilliseconds: Double { 2 * Double(integrationTime.rawValue) }
        public var description: String { "gain \(gain.rawValue), \(integrationTime.rawValue) ms" }
    }

    public enum Mode: Equatable, Sendable {
        /// The application note's auto-range.
        case auto
        case fixed(Setting)
    }

    public static let resolutionAtMaximum = 0.0042
    /// Datasheet rev 1.7: "0 lx to about 140 klx".
    public static let maximumLux = 140_000.0
    /// Counts the application note keeps a reading within: below 100 it
    /// raises gain, then integration time; above 10 000 it shortens the time.
    static let lowCounts: UInt16 = 100
    static let highCounts: UInt16 = 10_000
    /// Auto-range steps from least to most sensitive: the note's path from its
    /// start (1/8, 100 ms) down to 25 ms for bright light, up through gains
    /// 1/4, 1, 2 and then 200–800 ms for dim light. Neighbours differ by at
    /// most 4×, so a step never jumps over the 100…10 000 window.
    public static let ladder: [Setting] = [
        Setting(.eighth, .ms25), Setting(.eighth, .ms50), Setting(.eighth, .ms100), Setting(.quarter, .ms100),
        Setting(.one, .ms100), Setting(.two, .ms100), Setting(.two, .ms200), Setting(.two, .ms400), Setting(.two, .ms800),
    ]
    static let start = 2

    /// Application note: lux = 6.0135e-13·x⁴ − 9.3924e-9·x³ + 8.1488e-5·x² + 1.0023·x.
    public static func corrected(_ lux: Double) -> Double {
        (((6.0135e-13 * lux - 9.3924e-9) * lux + 8.1488e-5) * lux + 1.0023) * lux
    }

    public let name: String
    public let driver = "veml7700"
    public let mode: Mode
    let device: I2CDevice
    let sleeper: any Sleeper
    let chip: String
    /// Where auto-range is on the ladder (or the fixed setting).
    private let current: Mutex<Setting>

    public init(name: String, device: I2CDevice, mode: Mode = .auto, sleeper: any Sleeper = SystemSleeper()) throws(SensorError) {
        self.name = name
        self.device = device
        self.mode = mode
        self.sleeper = sleeper
        chip = "VEML7700 \(device.description)"
        let setting: Setting
        switch mode {
        case .auto: setting = Self.ladder[Self.start]
        case let .fixed(fixed): setting = fixed
        }
        current = Mutex(setting)
        try apply(setting)
        let readBack: UInt16
        do { readBack = try device.bus.readWordData(address: device.address, register: Register.configuration) } catch { throw .bus(error, chip: chip) }
        guard readBack == setting.configuration else {
            throw SensorError(code: .wrongChip, message: "the device at 0x\(I2CError.hex(device.address)) is not a VEML7700: ALS_CONF read back "
                + "0x\(I2CError.hex(readBack)) after 0x\(I2CError.hex(setting.configuration)) was written")
        }
    }

    /// Writes ALS_CONF (powered on) and waits for a conversion with it.
    private func apply(_ setting: Setting) throws(SensorError) {
        let value = setting.configuration
        do { try device.write([Register.configuration, UInt8(value & 0xFF), UInt8(value >> 8)]) } catch { throw .bus(error, chip: chip) }
        // 4 ms after power-on before the first measurement (the datasheet, as the veml7700 crate quotes it), then the conversion.
        sleeper.sleep(milliseconds: setting.settleMilliseconds + 4)
    }

    private func counts() throws(SensorError) -> UInt16 {
        do { return try device.bus.readWordData(address: device.address, register: Register.als) } catch { throw .bus(error, chip: chip) }
    }

    public func read() throws(SensorError) -> [SensorReading] {
        var setting = current.withLock { $0 }
        var raw = try counts()
        if mode == .auto, var index = Self.ladder.firstIndex(of: setting) {
            // At most the whole ladder: counts move monotonically with the step.
            for _ in Self.ladder.indices {
                let next: Int
                if raw < Self.lowCounts, index < Self.ladder.count - 1 {
                    next = index + 1
                } else if raw > Self.highCounts, index > 0 {
                    next = index - 1
                } else {
                    break
                }
                index = next
                setting = Self.ladder[index]
                current.withLock { $0 = setting }
                try apply(setting)
                raw = try counts()
            }
        }
        var lux = Double(raw) * setting.resolution
        if setting.gain == .eighth || setting.gain == .quarter { lux = Self.corrected(lux) }
        // Past the datasheet's range the polynomial runs away (65535 counts at
        // 1/8 and 25 ms would be 2·10⁸ lx): reported as the range's end, flagged.
        let outOfRange = raw == UInt16.max || lux > Self.maximumLux
        return [SensorReading(quantity: "illuminance", value: min(lux, Self.maximumLux), unit: "lx", outOfRange: outOfRange)]
    }

    /// Shuts it down (ALS_SD = 1): 0.5 µA instead of 45 µA.
    public func close() {
        let value = current.withLock { $0 }.configuration | 1
        try? device.write([Register.configuration, UInt8(value & 0xFF), UInt8(value >> 8)])
    }
}
