import Hardware
#if canImport(Glibc)
import LinuxService
#endif

/// Maxim DS18B20 temperature probes on a 1-Wire bus, read through the
/// kernel's `w1-gpio` master and `w1_therm` driver
/// (Documentation/w1/slaves/w1_therm.rst): each probe is a directory
/// `/sys/bus/w1/devices/28-<ROM serial>` (family code 28h), whose
/// `w1_slave` holds two lines, the scratchpad with the kernel's CRC verdict
/// (`… : crc=57 YES`) and the scratchpad again with `t=<millidegrees>`.
/// Several probes share one bus; each sensor names its probe by ROM id.
/// The root is injectable so tests point it at a fixture tree.
public final class DS18B20: Sensor {
    public static let defaultRoot = "/sys/bus/w1/devices"
    /// The datasheet's range (−55…+125 °C), and its power-on value: a
    /// scratchpad that still reads +85 °C was not converted.
    static let operatingRange: ClosedRange<Double> = -55...125
    static let powerOnMillidegrees = 85_000

    public let name: String
    public let driver = "ds18b20"
    /// `28-0316a2796aff`.
    public let rom: String
    let path: String

    /// The DS18B20s under `root`, by ROM id.
    public static func probes(root: String = defaultRoot) -> [String] {
        (((try? FileIO.list(root)) ?? []).filter { $0.hasPrefix("28-") && $0.count == 15 }).sorted()
    }

    /// `rom`: the probe's id (`28-…`), or nil when there is exactly one.
    public init(name: String, rom: String? = nil, root: String = defaultRoot) throws(SensorError) {
        let probes = Self.probes(root: root)
        guard !probes.isEmpty else {
            throw SensorError(code: .noData, message: "\(name) (ds18b20): no DS18B20 under \(root): enable 1-Wire (dtoverlay=w1-gpio,gpiopin=4 "
                + "in /boot/firmware/config.txt, then reboot), and check the 4.7 kΩ pull-up between DQ and 3.3 V")
        }
        let chosen: String
        if let rom {
            guard probes.contains(rom) else {
                throw SensorError(code: .noData, message: "\(name) (ds18b20): no probe \(rom) under \(root); there are: \(probes.joined(separator: ", "))")
            }
            chosen = rom
        } else {
            guard probes.count == 1 else {
                throw SensorError(code: .config, message: "\(name) (ds18b20): \(probes.count) probes on the bus; name one with `rom:` "
                    + "(\(probes.joined(separator: ", ")))")
            }
            chosen = probes[0]
        }
        self.name = name
        self.rom = chosen
        path = "\(root)/\(chosen)/w1_slave"
    }

    /// Maxim's 1-Wire CRC-8 (application note 27): polynomial x^8 + x^5 +
    /// x^4 + 1, bits least significant first (0x8C reflected), initial 0.
    static func crc8<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt8 {
        var crc: UInt8 = 0
        for byte in bytes {
            var value = byte
            for _ in 0..<8 {
                let mix = (crc ^ value) & 1
                crc >>= 1
                if mix == 1 { crc ^= 0x8C }
                value >>= 1
            }
        }
        return crc
    }

    public func read() throws(SensorError) -> [SensorReading] {
        let text: String
        do { text = try FileIO.text(path, limit: 4096) } catch {
            // The directory goes when the probe stops answering the bus.
            throw SensorError(code: .noAcknowledge, message: "\(name) (ds18b20 \(rom)): cannot read \(path): \(error.errno): check the probe's wiring")
        }
        let lines = text.split(separator: "\n")
        guard lines.count >= 2 else {
            throw SensorError(code: .badValue, message: "\(name) (ds18b20 \(rom)): \(path) holds \(lines.count) line(s), not the scratchpad and t=")
        }
        // The kernel checks the scratchpad's CRC-8 and says YES or NO; the
        // bytes are checked here too (Maxim's CRC-8, x^8 + x^5 + x^4 + 1).
        let scratchpad = lines[0].split(separator: " ").prefix(9).compactMap { UInt8($0, radix: 16) }
        guard lines[0].hasSuffix("YES"), scratchpad.count == 9, Self.crc8(scratchpad.prefix(8)) == scratchpad[8] else {
            throw SensorError(code: .crc, message: "\(name) (ds18b20 \(rom)): the scratchpad failed its CRC (a long or unshielded cable, a weak pull-up?)")
        }
        guard let field = lines[1].split(separator: " ").last, field.hasPrefix("t="), let milli = Int(field.dropFirst(2)) else {
            throw SensorError(code: .badValue, message: "\(name) (ds18b20 \(rom)): no t=<millidegrees> in \(path)")
        }
        guard milli != Self.powerOnMillidegrees else {
            throw SensorError(code: .notReady, message: "\(name) (ds18b20 \(rom)): 85 °C is the power-on value: the conversion did not run "
                + "(parasite power without a strong pull-up?)")
        }
        return [.temperature(celsius: Double(milli) / 1000, range: Self.operatingRange)]
    }
}
