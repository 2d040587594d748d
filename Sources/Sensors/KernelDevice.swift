import LinuxService

/// A device a kernel driver shows in sysfs, in a directory of its class or
/// bus named by a prefix and a number (`/sys/class/hwmon/hwmon2`,
/// `/sys/bus/iio/devices/iio:device0`), with a `name` file saying which
/// driver made it (`sht3x`, `bme280`). `Hwmon` and `IIO` find theirs here.
public struct KernelDevice: Equatable, Sendable {
    /// `hwmon2`, `iio:device0`.
    public var directory: String
    /// What its `name` file says.
    public var name: String
    public var path: String

    /// The devices under `root` whose directory is `prefix` and a number,
    /// in number order (others, such as IIO's triggers, are not devices).
    static func list(root: String, prefix: String) -> [KernelDevice] {
        func number(_ directory: String) -> Int { Int(directory.dropFirst(prefix.count)) ?? Int.max }
        return ((try? FileIO.list(root)) ?? []).filter { $0.hasPrefix(prefix) }
            .map { at(directory: $0, path: "\(root)/\($0)") }
            .sorted { number($0.directory) < number($1.directory) }
    }

    static func at(directory: String, path: String) -> KernelDevice {
        KernelDevice(directory: directory, name: (try? FileIO.text("\(path)/name", limit: 256))?.trimmingWhitespace ?? "unknown", path: path)
    }

    /// The one device whose name or directory is `selector`. The errors say
    /// what there is: `none` when there are no devices at all (how to load
    /// a driver), the devices there are when none matches, and their
    /// directories when several share the name.
    static func select(_ selector: String, among devices: [KernelDevice], sensor: String, kind: String, root: String,
                       none: String) throws(SensorError) -> KernelDevice {
        guard !devices.isEmpty else {
            throw SensorError(code: .noData, message: "\(sensor) (\(kind)): no \(kind) device \"\(selector)\" under \(root): \(none)")
        }
        let matching = devices.filter { $0.name == selector || $0.directory == selector }
        guard let found = matching.first else {
            throw SensorError(code: .noData, message: "\(sensor) (\(kind)): no \(kind) device \"\(selector)\" under \(root); there are: "
                + devices.map { "\($0.directory) (\($0.name))" }.joined(separator: ", "))
        }
        guard matching.count == 1 else {
            throw SensorError(code: .config, message: "\(sensor) (\(kind)): \(matching.count) devices are named \"\(selector)\"; "
                + "name one by its directory (\(matching.map(\.directory).joined(separator: ", ")))")
        }
        return found
    }
}
