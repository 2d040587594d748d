import Hardware
import Station
import SimulatedHardware
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A whole simulated sensor station, what `--simulate` and the demo run on:
/// I2C bus 1 with one of each supported chip at its default address (and a
/// bus 2 for the BME680, whose addresses 0x76/0x77 bus 1's BME280 and
/// BMP280 already take), a GPIO
/// chip whose edge-watching inputs get a pulse every half second (a light
/// rain, a breeze), and a thermal zone at 47.25 °C.
public final class SimulatedStation: HardwareAccess {
    public let kind = "simulated"
    public let bus = SimulatedI2CBus(name: "simulated i2c-1")
    /// A second bus: a BME680 at 0x77 (its breakouts' default address).
    public let bus2 = SimulatedI2CBus(name: "simulated i2c-2")
    public let chip: SimulatedGPIOChip
    public var thermalRoot: String { thermalZone.root }
    /// Two DS18B20 probes on a simulated 1-Wire bus, as the kernel's
    /// w1_therm shows them (Documentation/w1/slaves/w1_therm.rst): the first
    /// with that document's scratchpad (23.125 °C), the second at −10.125 °C
    /// (DS18B20 datasheet, Table 1: FF5Eh).
    public var oneWireRoot: String { oneWireBus.root }
    /// A kernel-driven SHT3x under hwmon (Documentation/hwmon/sht3x.rst:
    /// temp1_input in m°C, humidity1_input in m%), as a board with
    /// `dtoverlay=i2c-sensor,sht3x` shows it.
    public var hwmonRoot: String { hwmon.root }
    public static let oneWireProbes: [(rom: String, w1Slave: String)] = [
        ("28-0316a2796aff", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"),
        ("28-0416b3421bff", "5e ff 4b 46 7f ff 0c 10 6a : crc=6a YES\n5e ff 4b 46 7f ff 0c 10 6a t=-10125\n"),
    ]
    public let sleeper: any Sleeper
    /// A thermal zone at 47.25 °C, the 1-Wire bus and the hwmon device above.
    private let thermalZone = SysfsTree(kind: "thermal", [("thermal_zone0/type", "cpu-thermal\n"), ("thermal_zone0/temp", "47250\n")])
    private let oneWireBus = SysfsTree(kind: "w1", [("w1_bus_master1/", "")] + oneWireProbes.map { ("\($0.rom)/w1_slave", $0.w1Slave) })
    private let hwmon = SysfsTree(kind: "hwmon", [("hwmon0/name", "sht3x\n"), ("hwmon0/temp1_input", "21400\n"), ("hwmon0/humidity1_input", "46000\n")])

    /// Default addresses of the simulated chips, as `fieldproof scan` finds them.
    public static let chips: [(address: UInt16, make: @Sendable () -> any SimulatedI2CChip)] = [
        (0x23, { SimulatedBH1750(lux: 812.5) }),
        (0x40, { SimulatedINA219(volts: 12.6, amperes: 0.25, shuntOhms: 0.1) }), // a 12 V battery through a 0.1 Ω shunt
        (0x41, { SimulatedINA260(volts: 5.1, amperes: 0.6) }), // the board's 5 V supply
        (0x44, { SimulatedSHT4x(celsius: 21.5, humidity: 45) }),
        (0x45, { SimulatedSHT3x(celsius: 21.4, humidity: 46) }),
        (0x48, { SimulatedADS1115(volts: [1.25, 0.5, 3.3, 0]) }),
        (0x62, { SimulatedSCD4x(ppm: 612, celsius: 22, humidity: 40) }),
        (0x76, { SimulatedBME280(celsius: 21.5, humidity: 45, hectopascal: 1013.2) }),
        (0x77, { SimulatedBME280(celsius: 21.6, humidity: 0, hectopascal: 1013.1, bmp280: true) }),
    ]

    /// The chips on bus 2.
    public static let bus2Chips: [(address: UInt16, make: @Sendable () -> any SimulatedI2CChip)] = [
        (0x77, { SimulatedBME680(celsius: 21.8, humidity: 42, pascal: 101_250, gasOhms: 85_000) }),
    ]

    private let weather = WeatherContext()
    private let weatherThread = Mutex<pthread_t?>(nil)

    /// `weather`: pulse edge-watching lines in the background. `sleeper`:
    /// the demo waits like real chips; tests pass one that does not wait.
    public init(gpioLabel: String = "simulated", weather: Bool = true, sleeper: any Sleeper = SystemSleeper()) {
        chip = SimulatedGPIOChip(name: "gpiochip0", label: gpioLabel)
        self.sleeper = sleeper
        for (address, make) in Self.chips { bus.attach(make(), at: address) }
        for (address, make) in Self.bus2Chips { bus2.attach(make(), at: address) }
        if weather { startWeather() }
    }

    deinit {
        weather.running.store(false, ordering: .sequentiallyConsistent)
        if let thread = weatherThread.withLock({ $0 }) { pthread_join(thread, nil) }
        for tree in [thermalZone, oneWireBus, hwmon] { tree.remove() }
    }

    public func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus {
        switch number {
        case 1: return bus
        case 2: return bus2
        default:
            throw I2CError(kind: .missingBus, bus: "simulated i2c-\(number)", address: nil, detail: "the simulator has only buses 1 and 2")
        }
    }

    public func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip {
        guard [chip.name, chip.label, "/dev/\(chip.name)", "0"].contains(descriptor) else {
            throw GPIOError(kind: .missingChip, chip: descriptor, detail: "the simulator has one chip, \(chip.name) (\(chip.label))")
        }
        return chip
    }

    private func startWeather() {
        weather.chip.withLock { $0 = chip }
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

/// The weather thread's state: the chip it pulses and whether to go on.
private final class WeatherContext: Sendable {
    let running = Atomic<Bool>(false)
    let chip = Mutex<SimulatedGPIOChip?>(nil)

    func run() {
        guard let chip = chip.withLock({ $0 }) else { return }
        while running.load(ordering: .sequentiallyConsistent) {
            var pause = timespec(tv_sec: 0, tv_nsec: 500_000_000)
            nanosleep(&pause, nil)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let nanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
            for offset in chip.edgeWatchingLines() {
                chip.pulse(offset, atNanoseconds: nanoseconds, widthNanoseconds: 20_000_000)
            }
        }
    }
}
