import Hardware
#if canImport(Glibc)
import LinuxService
#endif

/// Any sensor the kernel drives under the Industrial I/O subsystem,
/// `/sys/bus/iio/devices/iio:device<N>` (a BME280 through `bmp280`, an
/// ADS1115 through `ti-ads1015`, a BH1750 through `bh1750`, after
/// `dtoverlay=i2c-sensor,…`). The kernel's ABI
/// (Documentation/ABI/testing/sysfs-bus-iio) fixes the files and units:
/// a channel is `in_<type>[<index>][_<modifier>]_input` (processed) or
/// `…_raw`, whose value is `(raw + offset) × scale`, `_offset` and `_scale`
/// being the channel's own (`in_voltage0_scale`) or shared by its type
/// (`in_voltage_scale`), by every input (`in_scale`) or by all (`scale`), as
/// drivers/iio/industrialio-core.c names them. After scaling: `temp` m°C,
/// `humidityrelative` m%, `pressure` kPa, `voltage` mV, `current` mA,
/// `power` mW, `illuminance` lx, `resistance` Ω, `concentration` percent.
/// Each is converted to the wire's SI units; channels of other types
/// (acceleration, proximity, unit-less intensity) are skipped, as are
/// differential pairs (`in_voltage0-voltage1_raw`) and the `peak`/`trough`
/// records. The device is named by its `name` file (`bme280`), its
/// directory (`iio:device0`) or its path; the root is injectable so tests
/// point it at a fixture tree.
public final class IIO: Sensor {
    public static let defaultRoot = "/sys/bus/iio/devices"
    static let devicePrefix = "iio:device"

    public typealias Device = KernelDevice

    /// One channel file and how to turn it into the wire's units.
    struct Channel: Equatable {
        /// The kernel's name without `in_` and the suffix: `voltage0`, `temp`, `concentration_co2`.
        var kernelName: String
        /// `in_voltage0_raw` or `in_temp_input`.
        var file: String
        /// Processed (`_input`): already in the ABI's units, no scale or offset applies.
        var processed: Bool
        /// Where a raw channel's scale and offset may be, most particular first.
        var scaleFiles: [String]
        var offsetFiles: [String]
        var quantity: String
        var unit: String
        /// The ABI's unit to the wire's: multiplied, then added.
        var factor: Double
        var addend: Double
    }

    /// The channel types this driver converts: the kernel's type, quantity, SI unit, factor and addend from the ABI's unit.
    static let types: [(type: String, quantity: String, unit: String, factor: Double, addend: Double)] = [
        ("temp", "temperature", "K", 0.001, 273.15), ("humidityrelative", "relative_humidity", "%", 0.001, 0),
        ("pressure", "pressure", "Pa", 1000, 0), ("voltage", "voltage", "V", 0.001, 0), ("current", "current", "A", 0.001, 0),
        ("power", "power", "W", 0.001, 0), ("illuminance", "illuminance", "lx", 1, 0), ("resistance", "resistance", "Ohm", 1, 0),
        ("concentration", "concentration", "%", 1, 0),
    ]
    /// Modifiers that are not the present value (Documentation/ABI/testing/sysfs-bus-iio: highest and lowest since a reset).
    static let skippedModifiers: Set<String> = ["peak", "trough"]

    public let name: String
    public let driver = "iio"
    public let device: Device
    let channels: [Channel]

    /// The IIO devices under `root`, by directory (triggers are not devices).
    public static func devices(root: String = defaultRoot) -> [Device] { KernelDevice.list(root: root, prefix: devicePrefix) }

    /// `selector`: the device's `name` (`bme280`), directory (`iio:device0`)
    /// or path. `only`: the channels to read, by kernel name (`voltage0`,
    /// `temp`) or quantity (`voltage_in0`, `temperature`); nil: all.
    public init(name: String, device selector: String, channels only: [String]? = nil, root: String = defaultRoot) throws(SensorError) {
        let found: Device
        if selector.contains("/") {
            let directory = selector.split(separator: "/").last.map(String.init) ?? selector
            guard (try? FileIO.list(selector)) != nil else {
                throw SensorError(code: .noData, message: "\(name) (iio): no IIO device at \(selector)")
            }
            found = KernelDevice.at(directory: directory, path: selector)
        } else {
            found = try KernelDevice.select(selector, among: Self.devices(root: root), sensor: name, kind: "iio", root: root,
                                            none: "the kernel has no IIO device: load the chip's kernel driver, "
                                                + "e.g. dtoverlay=i2c-sensor,bme280 in /boot/firmware/config.txt, then reboot")
        }
        let all = Self.channels(files: (try? FileIO.list(found.path)) ?? [])
        guard !all.isEmpty else {
            throw SensorError(code: .noData, message: "\(name) (iio): \(found.directory) (\(found.name)) has no temp, humidityrelative, pressure, "
                + "voltage, current, power, illuminance, resistance or concentration channel")
        }
        var chosen = all
        if let only {
            let unknown = only.filter { wanted in !all.contains { $0.kernelName == wanted || $0.quantity == wanted } }
            guard unknown.isEmpty else {
                throw SensorError(code: .config, message: "\(name) (iio): \(found.directory) (\(found.name)) has no channel "
                    + "\(unknown.joined(separator: ", ")); it has: \(all.map(\.kernelName).joined(separator: ", "))")
            }
            chosen = all.filter { only.contains($0.kernelName) || only.contains($0.quantity) }
        }
        self.name = name
        self.device = found
        self.channels = chosen
    }

    /// The channels among a device's files, in the order of `types`, then
    /// by index and modifier. A channel with both `_input` and `_raw` (newer
    /// bmp280) is read processed.
    static func channels(files: [String]) -> [Channel] {
        let names = Set(files)
        var parsed: [(typeIndex: Int, index: Int?, modifier: String?, stem: String, processed: Bool)] = []
        for file in files {
            let processed = file.hasSuffix("_input")
            guard file.hasPrefix("in_"), processed || file.hasSuffix("_raw") else { continue }
            let stem = String(file.dropFirst(3).dropLast(processed ? "_input".count : "_raw".count))
            if !processed, names.contains("in_\(stem)_input") { continue }
            guard !stem.contains("-"), let channel = parse(stem) else { continue }
            parsed.append((channel.typeIndex, channel.index, channel.modifier, stem, processed))
        }
        parsed.sort { ($0.typeIndex, $0.index ?? -1, $0.modifier ?? "") < ($1.typeIndex, $1.index ?? -1, $1.modifier ?? "") }
        return parsed.map { entry in
            let type = types[entry.typeIndex]
            let shared = [entry.modifier.map { "in_\(type.type)_\($0)" }, "in_\(type.type)", "in", ""].compactMap { $0 }
            let prefixes = ["in_\(entry.stem)"] + shared.filter { $0 != "in_\(entry.stem)" }
            var quantity = type.quantity
            var unit = type.unit
            var factor = type.factor
            if type.type == "concentration", entry.modifier == "co2" {
                // Percent by the ABI; carbon dioxide goes on the wire in ppm (1 % = 10 000 ppm), as the scd4x driver sends it.
                (quantity, unit, factor) = ("carbon_dioxide", "ppm", 10_000)
            } else if let modifier = entry.modifier {
                quantity += "_\(modifier)"
            }
            // An indexed channel keeps the kernel's number, as hwmon's in<n> does
            // (voltages always are: the ABI says "The number must always be specified").
            if let index = entry.index { quantity += "_in\(index)" }
            return Channel(kernelName: entry.stem, file: "in_\(entry.stem)_\(entry.processed ? "input" : "raw")", processed: entry.processed,
                           scaleFiles: prefixes.map { $0.isEmpty ? "scale" : "\($0)_scale" },
                           offsetFiles: prefixes.map { $0.isEmpty ? "offset" : "\($0)_offset" },
                           quantity: quantity, unit: unit, factor: factor, addend: type.addend)
        }
    }

    /// `temp`, `voltage0`, `temp_object`, `concentration_co2`: the type (by
    /// its place in `types`), the index and the modifier; nil when the type
    /// is not one this driver converts, or the modifier is a record.
    static func parse(_ stem: String) -> (typeIndex: Int, index: Int?, modifier: String?)? {
        for (typeIndex, type) in types.enumerated() where stem.hasPrefix(type.type) {
            let rest = stem.dropFirst(type.type.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            let after = rest.dropFirst(digits.count)
            let index = digits.isEmpty ? nil : Int(digits)
            guard digits.isEmpty || index != nil else { return nil }
            if after.isEmpty { return (typeIndex, index, nil) }
            guard after.hasPrefix("_"), after.count > 1 else { continue }
            let modifier = String(after.dropFirst())
            guard !modifier.split(separator: "_").contains(where: { skippedModifiers.contains(String($0)) }) else { return nil }
            return (typeIndex, index, modifier)
        }
        return nil
    }

    /// A number as the kernel prints it (`23450`, `-12`, `100.653289062`,
    /// `0.062500000`): digits with an optional sign and decimal point, no
    /// exponent, `nan` or `inf`.
    static func number(_ text: String) -> Double? {
        let trimmed = text.trimmingWhitespace
        var body = Substring(trimmed)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !body.isEmpty, body.count <= 40, parts.count <= 2, !(parts.first?.isEmpty ?? true),
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), parts.count == 1 || !parts[1].isEmpty,
              let value = Double(trimmed), value.isFinite else { return nil }
        return value
    }

    /// The first of `files` that exists, as a number; nil when none does.
    private func attribute(_ files: [String]) throws(SensorError) -> Double? {
        for file in files {
            let path = "\(device.path)/\(file)"
            guard let text = try? FileIO.text(path, limit: 64) else { continue }
            guard let value = Self.number(text) else {
                throw SensorError(code: .badValue, message: "\(name) (iio \(device.name)): \(path) holds \"\(text.trimmingWhitespace)\", not a number")
            }
            return value
        }
        return nil
    }

    public func read() throws(SensorError) -> [SensorReading] {
        var readings: [SensorReading] = []
        for channel in channels {
            let path = "\(device.path)/\(channel.file)"
            let text: String
            // The kernel driver returns an error (EIO, ETIMEDOUT) when its chip does not answer.
            do { text = try FileIO.text(path, limit: 64) } catch {
                throw SensorError(code: .noAcknowledge, message: "\(name) (iio \(device.name)): reading \(path) failed: \(error.errno): "
                    + "the kernel driver could not reach its chip")
            }
            guard let value = Self.number(text) else {
                throw SensorError(code: .badValue, message: "\(name) (iio \(device.name)): \(path) holds \"\(text.trimmingWhitespace)\", not a number")
            }
            var inABIUnits = value
            if !channel.processed {
                // Without a scale the ABI's units are the raw value's (sysfs-bus-iio, in_currentX_raw: "If no offset or scale is present, output should be considered as processed").
                let offset = try attribute(channel.offsetFiles) ?? 0
                let scale = try attribute(channel.scaleFiles) ?? 1
                inABIUnits = (value + offset) * scale
            }
            let result = inABIUnits * channel.factor + channel.addend
            guard result.isFinite else {
                throw SensorError(code: .badValue, message: "\(name) (iio \(device.name)): \(path) gives \(result), not a finite \(channel.quantity)")
            }
            readings.append(SensorReading(quantity: channel.quantity, value: result, unit: channel.unit))
        }
        return readings
    }
}
