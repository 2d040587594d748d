import Hardware
#if canImport(Glibc)
import Glibc
import LinuxService
#endif

/// The board's own temperature from a Linux thermal zone
/// (`/sys/class/thermal/thermal_zoneN/temp`, millidegrees Celsius). The
/// root is injectable so tests can point it at a fixture tree.
public final class ThermalZone: Sensor {
    public struct Zone: Equatable, Sendable {
        public var index: Int
        /// `cpu-thermal`, `x86_pkg_temp`, …
        public var type: String
        public var path: String
    }

    public let name: String
    public var driver: String { "board-temperature" }
    public let zone: Zone
    /// SoC junction limits: Raspberry Pi firmware throttles at 85 °C; below
    /// −40 °C is outside every SoC's rating.
    static let operatingRange: ClosedRange<Double> = -40...85

    public static let defaultRoot = "/sys/class/thermal"

    /// The zones under `root`, by index.
    public static func zones(root: String = defaultRoot) -> [Zone] {
        let zones = ((try? FileIO.list(root)) ?? []).compactMap { name -> Zone? in
            guard name.hasPrefix("thermal_zone"), let index = Int(name.dropFirst("thermal_zone".count)) else { return nil }
            let path = "\(root)/\(name)"
            let type = (try? FileIO.text("\(path)/type"))?.trimmingWhitespace ?? "unknown"
            return Zone(index: index, type: type, path: path)
        }
        return zones.sorted { $0.index < $1.index }
    }

    /// `zone`: an index (`0`), a type (`cpu-thermal`), or nil for the first.
    public init(name: String, zone selector: String? = nil, root: String = defaultRoot) throws(SensorError) {
        let zones = Self.zones(root: root)
        guard !zones.isEmpty else {
            throw SensorError(code: .noZone, message: "\(name) (board-temperature): no thermal zones under \(root): this kernel exposes no board temperature; remove the sensor or check that the SoC's thermal driver is loaded")
        }
        let found: Zone?
        if let selector {
            found = zones.first { String($0.index) == selector || $0.type == selector }
        } else {
            found = zones.first
        }
        guard let found else {
            let known = zones.map { "\($0.index) (\($0.type))" }.joined(separator: ", ")
            throw SensorError(code: .noZone, message: "\(name) (board-temperature): no thermal zone \"\(selector ?? "")\" under \(root); there are: \(known)")
        }
        self.name = name
        zone = found
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let text: String
        do { text = try FileIO.text("\(zone.path)/temp") } catch {
            throw SensorError(code: .io, message: "\(name) (board-temperature): cannot read \(zone.path)/temp: \(error.errno)")
        }
        guard let milli = Int(text.trimmingWhitespace) else {
            throw SensorError(code: .badValue, message: "\(name) (board-temperature): \(zone.path)/temp holds \"\(text.trimmingWhitespace)\", not millidegrees")
        }
        return [.temperature(celsius: Double(milli) / 1000, range: Self.operatingRange)]
    }
}

extension String {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
