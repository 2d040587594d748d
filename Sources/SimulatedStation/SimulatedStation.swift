import Hardware
import Station
import SimulatedHardware
import LinuxService
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A whole simulated sensor station, what `--simulate` and the demo run on:
/// I2C bus 1 with one of each supported chip at its default address (and a
/// bus 2 for the BME680, whose addresses bus 1's BME280 and BMP280 take), a GPIO
/// chip whose edge-watching inputs get pulses (rain tips, anemometer
/// turns), a thermal zone, a 1-Wire bus, a hwmon device and two IIO devices.
///
/// With an environment (`SimulatedEnvironment`, the daemon's and the demo's
/// case), every chip and file measures that world as it moves, and injected
/// faults (`InjectedFault`) make chips stick, spike or drop out. Without one
/// (tests of drivers and commands) the values stay the fixed ones below.
public final class SimulatedStation: HardwareAccess {
    public let kind = "simulated"
    public var bus: SimulatedI2CBus { world.bus }
    /// A second bus, with a BME680 at 0x77.
    public var bus2: SimulatedI2CBus { world.bus2 }
    public var chip: SimulatedGPIOChip { world.chip }
    public var thermalRoot: String { world.thermalZone.root }
    /// Two DS18B20 probes on a simulated 1-Wire bus, as the kernel's
    /// w1_therm shows them (Documentation/w1/slaves/w1_therm.rst): the first
    /// with that document's scratchpad (23.125 °C), the second at −10.125 °C
    /// (DS18B20 datasheet, Table 1: FF5Eh). In a moving world the first is
    /// in the air, the second in the ground.
    public var oneWireRoot: String { world.oneWireBus.root }
    /// A kernel-driven SHT3x under hwmon (Documentation/hwmon/sht3x.rst:
    /// temp1_input in m°C, humidity1_input in m%), as a board with
    /// `dtoverlay=i2c-sensor,sht3x` shows it; in the station's box.
    public var hwmonRoot: String { world.hwmon.root }
    /// Two devices under the kernel's Industrial I/O subsystem
    /// (Documentation/ABI/testing/sysfs-bus-iio): `iio:device0`, a BME280
    /// through the `bmp280` driver (processed `in_temp_input` m°C,
    /// `in_humidityrelative_input` m%, `in_pressure_input` kPa with nine
    /// decimals), and `iio:device1`, an `ads1115` through `ti-ads1015`
    /// (`in_voltage0_raw` with its `in_voltage0_scale`, 0.0625 mV at
    /// ±2.048 V) beside a raw temperature with an offset and a scale, as
    /// an ADC's die sensor shows it (`in_temp_raw`, `in_temp_offset`,
    /// `in_temp_scale`). In the station's box, like the hwmon SHT3x.
    public var iioRoot: String { world.iio.root }
    public static let oneWireProbes: [(rom: String, w1Slave: String)] = [
        ("28-0316a2796aff", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"),
        ("28-0416b3421bff", "5e ff 4b 46 7f ff 0c 10 6a : crc=6a YES\n5e ff 4b 46 7f ff 0c 10 6a t=-10125\n"),
    ]
    public let sleeper: any Sleeper
    let world: SimulatedWorld

    private let weather: WeatherContext
    private let weatherThread = Mutex<pthread_t?>(nil)

    /// `weather`: move the world (and pulse edge-watching lines) in the
    /// background. `sleeper`: the demo waits like real chips; tests pass one
    /// that does not wait. `environment`: the world the chips measure (nil:
    /// fixed values). `faults`: what goes wrong, and when.
    public init(gpioLabel: String = "simulated", weather: Bool = true, sleeper: any Sleeper = SystemSleeper(),
                environment: SimulatedEnvironment? = nil, faults: [InjectedFault] = []) {
        self.sleeper = sleeper
        world = SimulatedWorld(gpioLabel: gpioLabel, environment: environment, faults: faults)
        self.weather = WeatherContext(world: world)
        world.update(atUnixSeconds: Double(WallClock.milliseconds()) / 1000)
        if weather { startWeather() }
    }

    deinit {
        weather.running.store(false, ordering: .sequentiallyConsistent)
        if let thread = weatherThread.withLock({ $0 }) { pthread_join(thread, nil) }
        world.remove()
    }

    /// Sets every chip and file to the world at `time` (Unix seconds), with
    /// the faults active then; the weather thread does this twice a second.
    public func update(atUnixSeconds time: Double) { world.update(atUnixSeconds: time) }

    /// Makes the edge-watching line `offset` pulse as a rain gauge tips or
    /// an anemometer turns in this world (other lines pulse twice a second).
    public func drive(line offset: Int, as role: PulseRole) { world.roles.withLock { $0[offset] = role } }

    public func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus {
        guard number == 1 || number == 2 else {
            throw I2CError(kind: .missingBus, bus: "simulated i2c-\(number)", address: nil, detail: "the simulator has only buses 1 and 2")
        }
        return world.bus(number)
    }

    public func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip {
        guard [chip.name, chip.label, "/dev/\(chip.name)", "0"].contains(descriptor) else {
            throw GPIOError(kind: .missingChip, chip: descriptor, detail: "the simulator has one chip, \(chip.name) (\(chip.label))")
        }
        return chip
    }

    private func startWeather() {
        weather.running.store(true, ordering: .sequentiallyConsistent)
        // The thread holds the context, not the station, so the station's
        // deinit can stop and join it.
        let context = Unmanaged.passRetained(weather).toOpaque()
        var thread = pthread_t()
        if pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<WeatherContext>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context) == 0 {
            weatherThread.withLock { $0 = thread }
        } else {
            Unmanaged<WeatherContext>.fromOpaque(context).release()
        }
    }
}

/// What an edge-watching line stands for in the simulated world.
public enum PulseRole: Sendable {
    /// A tipping bucket: a tip per 0.2794 mm of rain.
    case rain
    /// A cup anemometer: a pulse per second per 0.667 m/s of wind.
    case wind
}

/// The weather thread's state: the world it moves and whether to go on.
private final class WeatherContext: Sendable {
    let running = Atomic<Bool>(false)
    let world: SimulatedWorld

    init(world: SimulatedWorld) { self.world = world }

    func run() {
        var pulses = PulseSchedule()
        var lastUpdate = 0.0
        while running.load(ordering: .sequentiallyConsistent) {
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&pause, nil)
            let now = Double(WallClock.milliseconds()) / 1000
            if now - lastUpdate >= 0.5 {
                world.update(atUnixSeconds: now)
                lastUpdate = now
            }
            var monotonic = timespec()
            clock_gettime(CLOCK_MONOTONIC, &monotonic)
            let nanoseconds = UInt64(monotonic.tv_sec) * 1_000_000_000 + UInt64(monotonic.tv_nsec)
            let roles = world.roles.withLock { $0 }
            // The weather's rates only matter to lines that stand for rain or wind.
            let conditions = roles.isEmpty ? nil : world.environment?.conditions(atUnixSeconds: now)
            for offset in world.chip.edgeWatchingLines() {
                let perSecond: Double
                switch (roles[offset], conditions) {
                case let (.rain?, conditions?): perSecond = conditions.rainMillimetresPerHour / 0.2794 / 3600
                case let (.wind?, conditions?): perSecond = conditions.windMetresPerSecond / (2.4 / 3.6)
                default: perSecond = 2 // no world: a light rain, a breeze
                }
                // Up to ten in this 50 ms, 4 ms apart.
                for index in 0..<pulses.due(offset, perSecond: perSecond, seconds: 0.05) {
                    world.chip.pulse(offset, atNanoseconds: nanoseconds + UInt64(index) * 4_000_000, widthNanoseconds: 2_000_000)
                }
            }
        }
    }
}

/// Whole pulses due on each line, carrying the fractions over.
struct PulseSchedule {
    private var owed: [Int: Double] = [:]

    mutating func due(_ line: Int, perSecond rate: Double, seconds: Double) -> Int {
        let total = (owed[line] ?? 0) + max(0, min(rate, 200)) * seconds
        let whole = total.rounded(.down)
        owed[line] = total - whole
        return Int(whole)
    }
}
