import Hardware
#if canImport(Glibc)
import LinuxService
#endif

/// Any sensor the kernel drives under `/sys/class/hwmon` (a board with
/// `dtoverlay=i2c-sensor,sht3x` and the like). The kernel's ABI
/// (Documentation/hwmon/sysfs-interface.rst) fixes the files and units:
/// `temp<n>_input` millidegrees Celsius, `humidity<n>_input` milli-percent,
/// `in<n>_input` millivolts, `curr<n>_input` milliamperes, `power<n>_input`
/// microwatts. Each is converted to the wire's SI units. The device is named
/// by its `name` file (`sht3x`) or its directory (`hwmon2`); the root is
/// injectable so tests point it at a fixture tree.
public final class Hwmon: Sensor {
    public static let defaultRoot = "/sys/class/hwmon"

    public typealias Device = KernelDevice

    /// One `<kind><n>_input` file and how to read it.
    struct Channel: Equatable {
        var file: String
        var quantity: String
        var unit: String
        /// Multiplies the file's integer into the SI unit.
        var scale: Double
        /// Added after scaling (millidegrees Celsius to kelvin).
        var offset: Double
    }

    /// The kinds of the ABI this driver reads: file prefix, quantity, SI unit, scale, offset.
    static let kinds: [(prefix: String, quantity: String, unit: String, scale: Double, offset: Double)] = [
        ("temp", "temperature", "K", 0.001, 273.15), ("humidity", "relative_humidity", "%", 0.001, 0),
        ("in", "voltage", "V", 0.001, 0), ("curr", "current", "A", 0.001, 0), ("power", "power", "W", 0.000_001, 0),
    ]

    public let name: String
    public let driver = "hwmon"
    public let device: Device
    let channels: [Channel]

    /// The hwmon devices under `root`, by directory.
    public static func devices(root: String = defaultRoot) -> [Device] { KernelDevice.list(root: root, prefix: "hwmon") }

    /// `selector`: the device's `name` (`sht3x`) or directory (`hwmon2`).
    public init(name: String, device selector: String, root: String = defaultRoot) throws(SensorError) {
        let found = try KernelDevice.select(selector, among: Self.devices(root: root), sensor: name, kind: "hwmon", root: root,
                                            none: "is the chip's kernel driver loaded (dtoverlay=i2c-sensor,…)?")
        let files = (try? FileIO.list(found.path)) ?? []
        var channels: [Channel] = []
        for kind in Self.kinds {
            let numbered = files.compactMap { file -> (Int, String)? in
                guard file.hasPrefix(kind.prefix), file.hasSuffix("_input"),
                      let number = Int(file.dropFirst(kind.prefix.count).dropLast("_input".count)) else { return nil }
                return (number, file)
            }.sorted { $0.0 < $1.0 }
            for (number, file) in numbered {
                // One of a kind keeps the plain name; several are told apart by the kernel's number.
                let quantity = numbered.count == 1 && kind.prefix != "in" ? kind.quantity : "\(kind.quantity)_\(kind.prefix)\(number)"
                channels.append(Channel(file: file, quantity: quantity, unit: kind.unit, scale: kind.scale, offset: kind.offset))
            }
        }
        guard !channels.isEmpty else {
            throw SensorError(code: .noData, message: "\(name) (hwmon): \(found.directory) (\(found.name)) has no temp, humidity, in, curr or power input")
        }
        self.name = name
        self.device = found
        self.channels = channels
    }

    public func read() throws(SensorError) -> [SensorReading] {
        var readings: [SensorReading] = []
        for channel in channels {
            let path = "\(device.path)/\(channel.file)"
            let text: String
            // The kernel driver returns an error (EIO, ENXIO) when its chip does not answer.
            do { text = try FileIO.text(path, limit: 64) } catch {
                throw SensorError(code: .noAcknowledge, message: "\(name) (hwmon \(device.name)): reading \(path) failed: \(error.errno): "
                    + "the kernel driver could not reach its chip")
            }
            guard let raw = Int(text.trimmingWhitespace) else {
                throw SensorError(code: .badValue, message: "\(name) (hwmon \(device.name)): \(path) holds \"\(text.trimmingWhitespace)\", not an integer")
            }
            readings.append(SensorReading(quantity: channel.quantity, value: Double(raw) * channel.scale + channel.offset, unit: channel.unit))
        }
        return readings
    }
}
