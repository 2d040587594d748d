import SimulatedHardware
import Synchronization

/// The simulated station's chips and files, and what sets them from the
/// environment: shared by the station and its weather thread (which must
/// not hold the station itself, so the station's deinit can join it).
final class SimulatedWorld: Sendable {
    let bus = SimulatedI2CBus(name: "simulated i2c-1")
    /// A second bus, for a BME680 at 0x77 (its breakouts' default address),
    /// which bus 1's BMP280 takes.
    let bus2 = SimulatedI2CBus(name: "simulated i2c-2")
    let chip: SimulatedGPIOChip
    let environment: SimulatedEnvironment?
    let faults: [InjectedFault]
    let roles = Mutex<[Int: PulseRole]>([:])

    let ambient = SimulatedVEML7700(lux: 350)
    let light = SimulatedBH1750(lux: 812.5)
    let battery = SimulatedINA219(volts: 12.6, amperes: 0.25, shuntOhms: 0.1) // a 12 V battery through a 0.1 Ω shunt
    let supply = SimulatedINA260(volts: 5.1, amperes: 0.6) // the board's 5 V supply
    let humidity = SimulatedSHT4x(celsius: 21.5, humidity: 45)
    let enclosure = SimulatedSHT3x(celsius: 21.4, humidity: 46)
    let soil = SimulatedADS1115(volts: [1.25, 0.5, 3.3, 0])
    let carbonDioxide = SimulatedSCD4x(ppm: 612, celsius: 22, humidity: 40)
    let particles = SimulatedSPS30(.indoor)
    let air = SimulatedBME280(celsius: 21.5, humidity: 45, hectopascal: 1013.2)
    let barometer = SimulatedBME280(celsius: 21.6, humidity: 0, hectopascal: 1013.1, bmp280: true)
    let gas = SimulatedBME680(celsius: 21.8, humidity: 42, pascal: 101_250, gasOhms: 85_000)

    /// A thermal zone at 47.25 °C, the 1-Wire bus and the hwmon device
    /// (the fixed values; a moving world rewrites them).
    let thermalZone = SysfsTree(kind: "thermal", [("thermal_zone0/type", "cpu-thermal\n"), ("thermal_zone0/temp", "47250\n")])
    let oneWireBus = SysfsTree(kind: "w1", [("w1_bus_master1/", "")] + SimulatedStation.oneWireProbes.map { ("\($0.rom)/w1_slave", $0.w1Slave) })
    let hwmon = SysfsTree(kind: "hwmon", [("hwmon0/name", "sht3x\n"), ("hwmon0/temp1_input", "21400\n"), ("hwmon0/humidity1_input", "46000\n")])
    /// A BME280 (bmp280 driver) and an ADS1115 (ti-ads1015) under IIO, at
    /// 21.4 °C, 46 %, 101.32 kPa, and 1.25 V on AIN0 with the die at 21.4 °C.
    let iio = SysfsTree(kind: "iio", [
        ("iio:device0/name", "bme280\n"), ("iio:device0/in_temp_input", "21400\n"), ("iio:device0/in_humidityrelative_input", "46000\n"),
        ("iio:device0/in_pressure_input", "101.320000000\n"), ("iio:device0/in_pressure_oversampling_ratio", "16\n"),
        ("iio:device1/name", "ads1115\n"), ("iio:device1/in_voltage0_raw", "20000\n"), ("iio:device1/in_voltage0_scale", "0.062500000\n"),
        ("iio:device1/in_temp_raw", "\(SimulatedWorld.iioTemperatureRaw(celsius: 21.4))\n"),
        ("iio:device1/in_temp_offset", "\(SimulatedWorld.iioTemperatureOffset)\n"), ("iio:device1/in_temp_scale", "\(SimulatedWorld.iioTemperatureScale)\n"),
    ])
    /// The ADC's die sensor: 0.125 °C a count (125 m°C), 0 counts at −40 °C (offset −320).
    static let iioTemperatureScale = "125.000000000"
    static let iioTemperatureOffset = -320
    static func iioTemperatureRaw(celsius: Double) -> Int { Int((celsius * 1000 / 125).rounded()) - iioTemperatureOffset }

    typealias Entry = (bus: Int, address: UInt16, chip: any SimulatedI2CChip, measure: @Sendable (SimulatedEnvironment.Conditions) -> Void)

    /// Each chip at its bus and address, and how it takes the world's conditions.
    var chips: [Entry] {
        [
            (1, 0x10, ambient, { [ambient] in ambient.set(lux: $0.lux) }),
            (1, 0x23, light, { [light] in light.set(lux: $0.lux) }),
            (1, 0x40, battery, { [battery] in battery.set(volts: $0.batteryVolts, amperes: $0.batteryAmperes) }),
            (1, 0x41, supply, { [supply] in supply.set(volts: $0.supplyVolts, amperes: $0.supplyAmperes) }),
            (1, 0x44, humidity, { [humidity] in humidity.set(celsius: $0.airCelsius, humidity: $0.relativeHumidity) }),
            (1, 0x45, enclosure, { [enclosure] in enclosure.set(celsius: $0.enclosureCelsius, humidity: $0.enclosureHumidity) }),
            (1, 0x48, soil, { [soil] in
                soil.set(volts: $0.soilMoistureVolts, channel: 0)
                soil.set(volts: $0.batteryVolts / 25, channel: 1) // the battery through a 1:25 divider
            }),
            (1, 0x62, carbonDioxide, { [carbonDioxide] in
                carbonDioxide.set(ppm: $0.carbonDioxidePPM, celsius: $0.enclosureCelsius, humidity: $0.enclosureHumidity)
            }),
            (1, 0x69, particles, { [particles] in particles.set(Self.particles($0)) }),
            (1, 0x76, air, { [air] in air.set(celsius: $0.airCelsius, humidity: $0.relativeHumidity, hectopascal: $0.hectopascal) }),
            (1, 0x77, barometer, { [barometer] in barometer.set(celsius: $0.enclosureCelsius, hectopascal: $0.hectopascal) }),
            (2, 0x77, gas, { [gas] in
                gas.set(celsius: $0.airCelsius, humidity: $0.relativeHumidity, pascal: $0.hectopascal * 100, gasOhms: $0.gasResistanceOhms)
            }),
        ]
    }

    init(gpioLabel: String, environment: SimulatedEnvironment?, faults: [InjectedFault]) {
        chip = SimulatedGPIOChip(name: "gpiochip0", label: gpioLabel)
        self.environment = environment
        self.faults = faults
        for entry in chips { self.bus(entry.bus).attach(entry.chip, at: entry.address) }
    }

    func update(atUnixSeconds time: Double) {
        guard let environment else { return }
        let now = environment.conditions(atUnixSeconds: time)
        for entry in chips {
            let mine = faults.filter { $0.bus == entry.bus && $0.address == entry.address }
            let active = mine.filter { $0.isActive(atUnixSeconds: time) }
            if mine.contains(where: { $0.kind == .dropout }) {
                bus(entry.bus).silence(entry.address, active.contains { $0.kind == .dropout })
            }
            // A stuck chip keeps what it measured when it stuck.
            if active.contains(where: { $0.kind == .stuck }) { continue }
            entry.measure(active.contains { $0.kind == .spike } ? now.spiked : now)
        }
        thermalZone.update("thermal_zone0/temp", "\(Self.milli(now.boardCelsius))\n")
        hwmon.update("hwmon0/temp1_input", "\(Self.milli(now.enclosureCelsius))\n")
        hwmon.update("hwmon0/humidity1_input", "\(Self.milli(now.enclosureHumidity))\n")
        iio.update("iio:device0/in_temp_input", "\(Self.milli(now.enclosureCelsius))\n")
        iio.update("iio:device0/in_humidityrelative_input", "\(Self.milli(now.enclosureHumidity))\n")
        // kPa with nine decimals, as IIO_VAL_FRACTIONAL prints.
        iio.update("iio:device0/in_pressure_input", Self.kilopascalText(hectopascal: now.hectopascal))
        iio.update("iio:device1/in_voltage0_raw", "\(Int((max(-2.048, min(2.048, now.soilMoistureVolts)) * 1000 / 0.0625).rounded()))\n")
        iio.update("iio:device1/in_temp_raw", "\(Self.iioTemperatureRaw(celsius: now.enclosureCelsius))\n")
        let probes = SimulatedStation.oneWireProbes
        oneWireBus.update("\(probes[0].rom)/w1_slave", Self.w1Slave(celsius: now.airCelsius))
        oneWireBus.update("\(probes[1].rom)/w1_slave", Self.w1Slave(celsius: now.groundCelsius))
    }

    func bus(_ number: Int) -> SimulatedI2CBus { number == 2 ? bus2 : bus }

    func remove() {
        for tree in [thermalZone, oneWireBus, hwmon, iio] { tree.remove() }
    }

    /// `101.320000000`: hectopascals as the bmp280 driver's kPa, nine decimals.
    static func kilopascalText(hectopascal: Double) -> String {
        let nano = Int64((hectopascal / 10 * 1_000_000_000).rounded())
        let fraction = String(nano % 1_000_000_000)
        return "\(nano / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)\n"
    }

    static func milli(_ value: Double) -> Int { Int((value * 1000).rounded()) }

    /// An SPS30's view of the world's PM2.5 and PM10: PM1.0 and PM4.0
    /// between them, and about 5.5 particles per cm³ per µg/m³ (the ratio in
    /// the SPS30's own readings of outdoor air), most of them small.
    static func particles(_ conditions: SimulatedEnvironment.Conditions) -> SimulatedSPS30.Environment {
        let pm25 = conditions.pm2_5, pm10 = conditions.pm10
        let mass = [pm25 * 0.85, pm25, pm25 + (pm10 - pm25) * 0.6, pm10]
        let count = pm25 * 5.5
        return SimulatedSPS30.Environment(mass: mass, number: [count * 0.84, count * 0.98, count, count * 1.003, count * 1.004],
                                          typicalSize: max(0.3, min(2.5, 0.4 + 0.15 * (pm10 / max(pm25, 0.1) - 1))))
    }

    /// A DS18B20's scratchpad at 12 bits as w1_therm prints it: the nine
    /// bytes with the CRC verdict, then again with t= in millidegrees
    /// (bytes 2–7 as after power-on: TH 4Bh, TL 46h, configuration 7Fh,
    /// FFh, 0Ch, 10h; DS18B20 datasheet, Figure 9).
    static func w1Slave(celsius: Double) -> String {
        let raw = Int16(max(-55, min(125, celsius)) * 16)
        let bits = UInt16(bitPattern: raw)
        var bytes: [UInt8] = [UInt8(bits & 0xFF), UInt8(bits >> 8), 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10]
        bytes.append(maximCRC8(bytes))
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        // The kernel's arithmetic: raw × 1000 / 16, truncated toward zero.
        return "\(hex) : crc=\(hex.suffix(2)) YES\n\(hex) t=\(Int(raw) * 1000 / 16)\n"
    }

    /// Maxim's 1-Wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected), written out
    /// here rather than taken from the driver, so a mistake in either shows.
    static func maximCRC8(_ bytes: [UInt8]) -> UInt8 {
        var crc: UInt8 = 0
        for byte in bytes {
            var input = byte
            for _ in 0..<8 {
                let mix = (crc ^ input) & 1
                crc >>= 1
                if mix != 0 { crc ^= 0x8C }
                input >>= 1
            }
        }
        return crc
    }
}
