/// The weather and surroundings one simulated station measures: a daily
/// temperature and humidity cycle, pressure drifting over days, light
/// following the sun behind passing clouds, rain in showers, particulates in
/// episodes, wind in gusts, each with noise, and offsets of its own (a
/// station's site: a little warmer, more shaded, higher up).
///
/// Everything is a function of time and the seed: no state, no random
/// generator. So a test gets the same world at the same instant every time,
/// two stations with one seed agree, and stations with different seeds
/// (the demo's devices, seeded by serial) differ visibly.
public struct SimulatedEnvironment: Sendable {
    /// What the chips of a station would measure at one instant.
    public struct Conditions: Equatable, Sendable {
        public var airCelsius: Double
        public var relativeHumidity: Double
        public var hectopascal: Double
        public var lux: Double
        /// Cloud cover, 0 (clear) to 1 (overcast).
        public var cloudCover: Double
        public var rainMillimetresPerHour: Double
        public var windMetresPerSecond: Double
        /// Particulate matter below 2.5 µm and 10 µm, µg/m³.
        public var pm2_5: Double
        public var pm10: Double
        public var carbonDioxidePPM: Double
        /// A BME680's metal-oxide layer: high in clean air, lower with
        /// volatile compounds (which come with the particulate episodes) and damp.
        public var gasResistanceOhms: Double
        /// A probe 10 cm down: slower and milder than the air.
        public var groundCelsius: Double
        /// Inside the station's box, which the sun warms.
        public var enclosureCelsius: Double
        public var enclosureHumidity: Double
        /// The board's SoC.
        public var boardCelsius: Double
        /// A 12 V battery charged by a panel (negative current: charging).
        public var batteryVolts: Double
        public var batteryAmperes: Double
        public var supplyVolts: Double
        public var supplyAmperes: Double
        /// A capacitive soil-moisture probe's output (wetter: lower).
        public var soilMoistureVolts: Double
    }

    /// What makes one station's site its own, drawn from the seed.
    public struct Site: Equatable, Sendable {
        /// Added to the air temperature, °C (−1.5…1.5).
        public var warmth: Double
        /// Hours the sun is ahead of UTC here (−2…2): the stations of one
        /// network are not all under the same noon.
        public var longitudeHours: Double
        /// Added to the pressure, hPa (−12…0: height above the sea).
        public var height: Double
        /// The share of daylight reaching the sensor (0.55…1: trees, walls).
        public var openSky: Double
        /// Added to the relative humidity, % (−6…6).
        public var dampness: Double
    }

    public let seed: UInt64
    public let site: Site

    public init(seed: UInt64) {
        self.seed = seed
        func draw(_ channel: UInt64) -> Double { Self.unit(Self.mix(seed ^ (channel &* 0x9E37_79B9_7F4A_7C15))) }
        site = Site(warmth: -1.5 + 3 * draw(101), longitudeHours: -2 + 4 * draw(102), height: -12 * draw(103),
                    openSky: 0.55 + 0.45 * draw(104), dampness: -6 + 12 * draw(105))
    }

    /// Seeded by a name (a device's serial), FNV-1a.
    public init(name: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: hash)
    }

    public func conditions(atUnixSeconds time: Double) -> Conditions {
        let hour = ((time / 3600 + site.longitudeHours).truncatingRemainder(dividingBy: 24) + 24).truncatingRemainder(dividingBy: 24)
        // The day's warmth peaks mid-afternoon; the sun is up 06:00–18:00.
        let daily = Self.sine(hours: hour - 9)
        let sun = max(0, Self.sine(hours: hour - 6))
        let cloud = min(1, max(0, 0.45 + 0.6 * smooth(1, time, period: 2400) + 0.1 * smooth(2, time, period: 300)))
        // A shower while a slow noise is high: about one hour in six, in
        // spells of tens of minutes.
        let showery = smooth(3, time, period: 1500)
        let rain = showery > 0.45 ? (showery - 0.45) * 40 * (0.7 + 0.3 * smooth(4, time, period: 60)) : 0
        let wet = min(1, rain / 4)

        let air = 12 + site.warmth + 6 * daily + 3 * smooth(5, time, period: 6 * 3600) + 0.4 * smooth(6, time, period: 600)
            - 2 * wet + 0.05 * white(7, time)
        let humidity = clamp(62 + site.dampness - 3 * (air - 12 - site.warmth) + 25 * wet + 3 * smooth(8, time, period: 900)
            + 0.2 * white(9, time), 3, 100)
        let pressure = 1013 + site.height + 8 * smooth(10, time, period: 2 * 86_400) + 2 * smooth(11, time, period: 5 * 3600)
            - 1.5 * wet + 0.03 * white(12, time)
        let daylight = 110_000 * pow(sun, 1.3) * (1 - 0.8 * cloud) * site.openSky
        // Night is not 0 lx here: a street lamp, the moon, flickering by more
        // than a BH1750's 0.83 lx step.
        let lux = max(0, daylight * (1 + 0.02 * white(13, time)) + 4 + 2 * smooth(14, time, period: 120) + white(15, time))
        let wind = max(0, 3 + 2.5 * smooth(16, time, period: 1800) + 1.5 * smooth(17, time, period: 20) + 4 * wet)
        // A smoke or traffic episode now and then, washed out by rain.
        let episode = max(0, smooth(18, time, period: 5400) - 0.3) / 0.7
        let pm25 = max(0.5, (5 + 60 * episode * episode) * (1 - 0.6 * wet) + 0.8 * smooth(19, time, period: 90) + 0.3 * white(20, time))
        let pm10 = pm25 * (1.5 + 0.2 * smooth(21, time, period: 3600)) + 0.3 * white(22, time)
        let co2 = 420 + 25 * smooth(23, time, period: 3600) + 40 * max(0, -daily) + 2 * white(24, time)
        let gas = 180_000 * (1 - 0.6 * episode) * (1 - 0.004 * (humidity - 50)) * (1 + 0.1 * smooth(36, time, period: 600)) + 300 * white(37, time)
        // A DS18B20's reading jitters by about a step (1/16 °C) even where the ground is still.
        let ground = 11 + site.warmth + 2 * Self.sine(hours: hour - 12) + 0.1 * white(25, time)
        let warmedBox = 8 * sun * (1 - cloud)
        let enclosure = air + 2 + warmedBox + 0.05 * white(26, time)
        let enclosureHumidity = clamp(humidity - 2.5 * (enclosure - air), 3, 100)
        let board = enclosure + 22 + 3 * smooth(27, time, period: 60) + 0.2 * white(28, time)
        let charging = 1.6 * sun * (1 - 0.85 * cloud)
        let batteryAmperes = 0.25 - charging + 0.01 * white(29, time)
        let batteryVolts = 12.3 + 0.5 * min(1, charging) + 0.01 * white(30, time)
        return Conditions(
            airCelsius: air, relativeHumidity: humidity, hectopascal: pressure, lux: lux, cloudCover: cloud, rainMillimetresPerHour: rain,
            windMetresPerSecond: wind, pm2_5: pm25, pm10: pm10, carbonDioxidePPM: co2, gasResistanceOhms: gas, groundCelsius: ground, enclosureCelsius: enclosure,
            enclosureHumidity: enclosureHumidity, boardCelsius: board, batteryVolts: batteryVolts, batteryAmperes: batteryAmperes,
            supplyVolts: 5.1 + 0.01 * white(31, time), supplyAmperes: 0.6 + 0.05 * smooth(32, time, period: 10) + 0.01 * white(33, time),
            soilMoistureVolts: 1.6 - 0.5 * smooth01(34, time, period: 4 * 3600) - 0.3 * wet + 0.005 * white(35, time))
    }

    // MARK: Noise

    /// Noise in −1…1 that changes smoothly over about `period` seconds
    /// (value noise: seeded values at whole periods, eased between them).
    func smooth(_ channel: UInt64, _ time: Double, period: Double) -> Double {
        let position = time / period
        guard position.isFinite, abs(position) < 9e15 else { return 0 }
        let bucket = position.rounded(.down)
        let fraction = position - bucket
        let eased = fraction * fraction * (3 - 2 * fraction)
        let a = value(channel, Int64(bucket)), b = value(channel, Int64(bucket) &+ 1)
        return a + (b - a) * eased
    }

    /// The same, in 0…1.
    func smooth01(_ channel: UInt64, _ time: Double, period: Double) -> Double { (smooth(channel, time, period: period) + 1) / 2 }

    /// Noise in −1…1, new every tenth of a second: what keeps two readings
    /// of a healthy sensor from ever being identical.
    func white(_ channel: UInt64, _ time: Double) -> Double {
        let tenth = (time * 10).rounded(.down)
        guard tenth.isFinite, abs(tenth) < 9e15 else { return 0 }
        return value(channel &+ 1000, Int64(tenth))
    }

    private func value(_ channel: UInt64, _ index: Int64) -> Double {
        2 * Self.unit(Self.mix(seed ^ Self.mix(channel ^ UInt64(bitPattern: index) &* 0xD6E8_FEB8_6659_FD93))) - 1
    }

    /// SplitMix64's finaliser: every input bit moves every output bit.
    static func mix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 53 random bits as a Double in [0, 1).
    static func unit(_ bits: UInt64) -> Double { Double(bits >> 11) / Double(1 << 53) }

    static func sine(hours: Double) -> Double { sin(2 * Double.pi * hours / 24) }

    private func clamp(_ value: Double, _ low: Double, _ high: Double) -> Double { min(high, max(low, value)) }
}

#if canImport(Glibc)
import Glibc
#endif
