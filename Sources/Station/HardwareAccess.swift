import Hardware
import Sensors
import Synchronization

/// Where sensors find their buses and chips: the machine's own
/// (`LinuxHardware`) or a simulated one (`SimulatedStation`). Buses and
/// chips are opened once and shared by the sensors on them.
public protocol HardwareAccess: Sendable {
    /// `simulated` or `linux`, for reports.
    var kind: String { get }
    func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus
    func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip
    /// The thermal-zone root (`/sys/class/thermal` on Linux).
    var thermalRoot: String { get }
    /// The 1-Wire devices' root (`/sys/bus/w1/devices` on Linux).
    var oneWireRoot: String { get }
    /// The kernel's hardware-monitoring root (`/sys/class/hwmon` on Linux).
    var hwmonRoot: String { get }
    /// The Industrial I/O devices' root (`/sys/bus/iio/devices` on Linux).
    var iioRoot: String { get }
    /// How drivers wait.
    var sleeper: any Sleeper { get }
    /// What watches the edge lines of pulse counters between reads: one
    /// thread for all of them.
    var edgeWatcher: GPIOEdgeWatcher { get }
}

extension HardwareAccess {
    public var edgeWatcher: GPIOEdgeWatcher { .shared }
    public var oneWireRoot: String { DS18B20.defaultRoot }
    public var hwmonRoot: String { Hwmon.defaultRoot }
    public var iioRoot: String { IIO.defaultRoot }
}

/// The real buses and chips of this machine.
public final class LinuxHardware: HardwareAccess {
    public let kind = "linux"
    public let thermalRoot: String
    public let sleeper: any Sleeper = SystemSleeper()
    private let buses = Mutex<[Int: LinuxI2CBus]>([:])
    private let chips = Mutex<[String: LinuxGPIOChip]>([:])
    public init(thermalRoot: String = "/sys/class/thermal") {
        self.thermalRoot = thermalRoot
    }

    public func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus {
        if let bus = buses.withLock({ $0[number] }) { return bus }
        let bus = try LinuxI2CBus(number: number)
        buses.withLock { $0[number] = bus }
        return bus
    }

    public func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip {
        if let chip = chips.withLock({ $0[descriptor] }) { return chip }
        let chip = try LinuxGPIOChip(descriptor)
        chips.withLock { $0[descriptor] = chip }
        return chip
    }
}
