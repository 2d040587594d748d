import ConfigFile
import Hardware
import Sensors

/// Makes drivers from configured sensors: finds the bus or GPIO line (header
/// pins through the board file), applies driver options, and detects the
/// chip. Every problem names the config entry and what to write instead.
public struct SensorFactory: Sendable {
    public let hardware: any HardwareAccess
    public let board: Board

    public init(hardware: any HardwareAccess, board: Board) {
        self.hardware = hardware
        self.board = board
    }

    /// Every driver name, with its default I2C address where it has one.
    public static let drivers: [(name: String, defaultAddress: Int?)] = [
        ("bme280", 0x76), ("bmp280", 0x76), ("bme680", 0x77), ("bme688", 0x77), ("sht3x", 0x44), ("sht4x", 0x44), ("scd4x", 0x62), ("bh1750", 0x23),
        ("ads1115", 0x48), ("ina219", 0x40), ("ina260", 0x40), ("sps30", 0x69), ("veml7700", 0x10), ("rain-gauge", nil), ("anemometer", nil),
        ("pulse-counter", nil), ("digital-input", nil),
        ("board-temperature", nil), ("ds18b20", nil), ("hwmon", nil), ("iio", nil),
    ]
    public static var driverNames: [String] { drivers.map(\.name) }

    public func make(_ spec: SensorSpec) throws(SensorError) -> any Sensor {
        let options = OptionReader(spec: spec)
        let sensor: any Sensor
        switch spec.driver {
        case "bme280", "bmp280":
            let factor = try options.int("oversampling", default: 1, allowed: [1, 2, 4, 8, 16])
            let variant: BME280.Variant = spec.driver == "bme280" ? .bme280 : .bmp280
            sensor = try BME280(name: spec.name, device: try device(spec), expected: variant,
                                oversampling: .init(temperature: factor, pressure: factor, humidity: factor), sleeper: hardware.sleeper)
        case "bme680", "bme688":
            // One driver for both: the chip's variant id tells them apart.
            let celsius = try options.double("heater_temperature", default: 320, range: BME680.Heater.celsiusRange, unit: "°C")
            let milliseconds = try options.int("heater_duration", default: 150, range: BME680.Heater.millisecondsRange, unit: "ms")
            let burnIn = try options.double("burn_in", default: 1800, range: 0...604_800, unit: "s")
            sensor = try BME680(name: spec.name, device: try device(spec), heater: .init(celsius: celsius, milliseconds: milliseconds),
                                burnInSeconds: burnIn, sleeper: hardware.sleeper)
        case "sht3x": sensor = try SHT3x(name: spec.name, device: try device(spec), sleeper: hardware.sleeper)
        case "sht4x": sensor = try SHT4x(name: spec.name, device: try device(spec), sleeper: hardware.sleeper)
        case "scd4x": sensor = try SCD4x(name: spec.name, device: try device(spec), sleeper: hardware.sleeper)
        case "bh1750": sensor = try BH1750(name: spec.name, device: try device(spec), sleeper: hardware.sleeper)
        case "ads1115":
            let channels = try options.intList("channels", default: [0], allowed: 0...3)
            let fullScale = try options.double("full_scale", default: 2.048, allowed: ADS1115.gains.map(\.fullScale))
            sensor = try ADS1115(name: spec.name, device: try device(spec), channels: channels, fullScale: fullScale, sleeper: hardware.sleeper)
        case "ina219":
            let shunt = try options.positiveDouble("shunt_ohms", default: 0.1)
            let maximum = try options.positiveDouble("max_current", default: INA219.maximumShuntVoltage / shunt)
            sensor = try INA219(name: spec.name, device: try device(spec), shuntOhms: shunt, maximumCurrent: maximum)
        case "ina260":
            let averaging = try options.int("averaging", default: 1, allowed: INA260.averages.map(\.count))
            sensor = try INA260(name: spec.name, device: try device(spec), averaging: averaging)
        case "sps30":
            // The chip's own default is 604800 s, a week; 0 turns the cleaning off.
            let interval = try options.int("fan_cleaning_interval", range: 0...Int(UInt32.max), unit: "seconds between fan cleanings (0: none)", example: 604_800)
            sensor = try SPS30(name: spec.name, device: try device(spec), cleaningInterval: interval.map { UInt32($0) }, sleeper: hardware.sleeper)
        case "veml7700":
            let gains = VEML7700.Gain.allCases.map(\.rawValue)
            let gainText = options.string("gain", default: "auto")
            let milliseconds = try options.int("integration_time", default: 100, allowed: VEML7700.IntegrationTime.allCases.map(\.rawValue))
            let mode: VEML7700.Mode
            if gainText == "auto" {
                guard spec.options["integration_time"] == nil else {
                    throw spec.problem("option integration_time needs a fixed gain (auto-range chooses both): add `gain:` (one of \(gains.joined(separator: ", "))) or remove integration_time")
                }
                mode = .auto
            } else if let gain = VEML7700.Gain(rawValue: gainText), let time = VEML7700.IntegrationTime(rawValue: milliseconds) {
                mode = .fixed(.init(gain, time))
            } else {
                throw spec.problem("option gain: \"\(gainText)\" is not one of auto, \(gains.joined(separator: ", ")), e.g. `gain: auto`")
            }
            sensor = try VEML7700(name: spec.name, device: try device(spec), mode: mode, sleeper: hardware.sleeper)
        case "rain-gauge", "anemometer", "pulse-counter":
            let kind = PulseCounter.Kind(rawValue: spec.driver) ?? .counter
            let factorKey = kind == .rainGauge ? "mm_per_tip" : kind == .anemometer ? "ms_per_hz" : nil
            let factor = try factorKey.map { key throws(SensorError) in try options.positiveDouble(key, default: kind.defaultFactor) }
            let debounce = try options.positiveDouble("debounce_ms", default: 10)
            let edge = try options.choice("edge", default: GPIOEdge.falling)
            let bias = try options.choice("bias", default: GPIOBias.pullUp)
            let line = try gpioLine(spec) { chip, offset throws(GPIOError) in try chip.requestInput(offset: offset, edge: edge, bias: bias) }
            sensor = PulseCounter(name: spec.name, kind: kind, line: line, factor: factor, debounceMilliseconds: debounce,
                                  watcher: hardware.edgeWatcher)
        case "digital-input":
            let activeLow = try options.bool("active_low", default: true)
            let bias = try options.choice("bias", default: GPIOBias.pullUp)
            let quantity = options.string("quantity", default: "state")
            let line = try gpioLine(spec) { chip, offset throws(GPIOError) in try chip.requestInput(offset: offset, edge: nil, bias: bias) }
            sensor = DigitalInput(name: spec.name, line: line, activeLow: activeLow, quantity: quantity)
        case "hwmon":
            guard let selector = options.string("device") else {
                throw spec.problem("needs `device:`, the kernel device's name or directory, e.g. `device: sht3x` (see /sys/class/hwmon/*/name)")
            }
            sensor = try Hwmon(name: spec.name, device: selector, root: hardware.hwmonRoot)
        case "iio":
            guard let selector = options.string("device") else {
                throw spec.problem("needs `device:`, the kernel device's name, directory or path, e.g. `device: bme280` (see /sys/bus/iio/devices/*/name)")
            }
            let channels = options.string("channels").map { $0.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty } }
            if let channels, channels.isEmpty {
                throw spec.problem("option channels: name the kernel's channels separated by commas, e.g. `channels: voltage0,voltage1`")
            }
            sensor = try IIO(name: spec.name, device: selector, channels: channels, root: hardware.iioRoot)
        case "ds18b20":
            sensor = try DS18B20(name: spec.name, rom: options.string("rom"), root: hardware.oneWireRoot)
        case "board-temperature":
            sensor = try ThermalZone(name: spec.name, zone: options.string("zone"), root: hardware.thermalRoot)
        default:
            throw spec.problem("unknown driver; known drivers: \(Self.driverNames.joined(separator: ", "))")
        }
        try options.finish()
        return sensor
    }

    private func device(_ spec: SensorSpec) throws(SensorError) -> I2CDevice {
        let number = spec.bus ?? board.i2c.first?.bus ?? 1
        let address = spec.address ?? Self.drivers.first { $0.name == spec.driver }?.defaultAddress ?? 0
        let bus: any I2CBus
        do { bus = try hardware.i2cBus(number) } catch {
            var failure = SensorError.bus(error, chip: "\(spec.name) (\(spec.driver))")
            if error.kind == .missingBus, !board.enableI2C.isEmpty, hardware.kind == "linux" {
                failure.message = "\(spec.name) (\(spec.driver)): /dev/i2c-\(number) does not exist: I2C is not enabled. \(board.enableI2C)"
            }
            throw failure
        }
        return I2CDevice(bus: bus, address: UInt16(address))
    }

    private func gpioLine<Line>(_ spec: SensorSpec, request: (any GPIOChip, Int) throws(GPIOError) -> Line) throws(SensorError) -> Line {
        let offset: Int
        if let line = spec.line {
            offset = line
        } else if let pin = spec.pin {
            do { offset = try board.line(forPin: pin) } catch { throw spec.problem(error.description) }
        } else {
            throw spec.problem("needs `pin:` (header pin) or `line:` (line offset on the GPIO chip), e.g. `pin: 11`")
        }
        do {
            let chip = try hardware.gpioChip(spec.chip ?? board.gpioChip)
            return try request(chip, offset)
        } catch {
            throw SensorError(code: .gpio, message: "\(spec.name) (\(spec.driver)): \(error)")
        }
    }
}

/// Reads a sensor's `options:`, remembering which were used so unknown ones
/// are an error, not silently ignored.
final class OptionReader {
    let spec: SensorSpec
    private var used: Set<String> = []

    init(spec: SensorSpec) { self.spec = spec }

    func string(_ key: String) -> String? {
        used.insert(key)
        return spec.options[key]
    }

    func string(_ key: String, default fallback: String) -> String { string(key) ?? fallback }

    func positiveDouble(_ key: String, default fallback: Double) throws(SensorError) -> Double {
        guard let text = string(key) else { return fallback }
        guard let value = Double(text), value > 0, value.isFinite else {
            throw spec.problem("option \(key): \"\(text)\" is not a positive number, e.g. `\(key): \(fallback)`")
        }
        return value
    }

    func double(_ key: String, default fallback: Double, allowed: [Double]) throws(SensorError) -> Double {
        guard let text = string(key) else { return fallback }
        guard let value = Double(text), allowed.contains(where: { abs($0 - value) < 1e-9 }) else {
            throw spec.problem("option \(key): \"\(text)\" is not one of \(allowed.map { "\($0)" }.joined(separator: ", "))")
        }
        return value
    }

    func double(_ key: String, default fallback: Double, range: ClosedRange<Double>, unit: String) throws(SensorError) -> Double {
        guard let text = string(key) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw spec.problem("option \(key): \"\(text)\" is not a number of \(unit) in \(Self.number(range.lowerBound))…\(Self.number(range.upperBound)), e.g. `\(key): \(Self.number(fallback))`")
        }
        return value
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>, unit: String) throws(SensorError) -> Int {
        try int(key, range: range, unit: unit, example: fallback) ?? fallback
    }

    /// A whole number in `range`; nil when the option is absent.
    func int(_ key: String, range: ClosedRange<Int>, unit: String, example: Int) throws(SensorError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw spec.problem("option \(key): \"\(text)\" is not a whole number of \(unit) in \(range.lowerBound)…\(range.upperBound), e.g. `\(key): \(example)`")
        }
        return value
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    func int(_ key: String, default fallback: Int, allowed: [Int]) throws(SensorError) -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), allowed.contains(value) else {
            throw spec.problem("option \(key): \"\(text)\" is not one of \(allowed.map(String.init).joined(separator: ", "))")
        }
        return value
    }

    func intList(_ key: String, default fallback: [Int], allowed: ClosedRange<Int>) throws(SensorError) -> [Int] {
        guard let text = string(key) else { return fallback }
        let parts = text.split(separator: ",").map { Int($0.filter { $0 != " " }) }
        guard !parts.isEmpty, parts.allSatisfy({ $0.map(allowed.contains) ?? false }) else {
            throw spec.problem("option \(key): \"\(text)\" must be numbers \(allowed.lowerBound)…\(allowed.upperBound) separated by commas, e.g. `\(key): 0,1`")
        }
        return parts.compactMap { $0 }
    }

    func bool(_ key: String, default fallback: Bool) throws(SensorError) -> Bool {
        guard let text = string(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw spec.problem("option \(key): \"\(text)\" is not true or false")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(SensorError) -> T where T.RawValue == String {
        guard let text = string(key) else { return fallback }
        guard let value = T(rawValue: text) else {
            throw spec.problem("option \(key): \"\(text)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func finish() throws(SensorError) {
        let unknown = spec.options.keys.filter { !used.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let known = used.sorted().joined(separator: ", ")
            throw spec.problem("unknown option\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))" + (known.isEmpty ? "; this driver takes no options" : "; known: \(known)"))
        }
    }
}
