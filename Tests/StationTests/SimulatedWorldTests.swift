import ConfigFile
import Hardware
import Sensors
import SimulatedHardware
import SimulatedStation
import Station
import Testing

/// The simulated world the demo's chips measure: it moves like weather,
/// it is the same for the same seed, and the drivers read it unchanged.
@Suite struct SimulatedWorldTests {
    /// 2026-06-21 00:00 UTC.
    let midnight = 1_781_913_600.0

    @Test func theSameSeedGivesTheSameWorldAndSeedsDiffer() {
        let one = SimulatedEnvironment(name: "demo-1"), again = SimulatedEnvironment(name: "demo-1"), two = SimulatedEnvironment(name: "demo-2")
        #expect(one.conditions(atUnixSeconds: midnight + 4321.5) == again.conditions(atUnixSeconds: midnight + 4321.5))
        #expect(one.site != two.site)
        let a = one.conditions(atUnixSeconds: midnight + 12 * 3600), b = two.conditions(atUnixSeconds: midnight + 12 * 3600)
        #expect(abs(a.airCelsius - b.airCelsius) > 0.05 && abs(a.hectopascal - b.hectopascal) > 0.05, "\(a) \(b)")
    }

    @Test func daysAreWarmerAndBrighterThanNights() {
        for seed in UInt64(1)...20 {
            let world = SimulatedEnvironment(seed: seed)
            // Local solar time: UTC plus the site's longitude.
            func at(_ localHour: Double) -> SimulatedEnvironment.Conditions {
                world.conditions(atUnixSeconds: midnight + (localHour - world.site.longitudeHours) * 3600)
            }
            let afternoon = at(15), night = at(3), noon = at(12)
            #expect(afternoon.airCelsius > night.airCelsius + 4, "seed \(seed): \(afternoon.airCelsius) vs \(night.airCelsius)")
            #expect(night.lux < 10 && night.lux > 0, "street light, not sun, and never a flat 0: \(night.lux)")
            #expect(noon.lux > 10_000, "seed \(seed): \(noon.lux)")
            if afternoon.rainMillimetresPerHour == 0 && night.rainMillimetresPerHour == 0 {
                #expect(afternoon.relativeHumidity < night.relativeHumidity, "drier when warmer (and no shower)")
            }
        }
    }

    /// Over a week: every value stays plausible, rain comes in showers (wet
    /// and dry spells), particulates in episodes, pressure drifts by hPa.
    @Test func aWeekOfWeather() {
        let world = SimulatedEnvironment(name: "demo-2")
        let samples = stride(from: 0.0, to: 7 * 86_400, by: 60).map { world.conditions(atUnixSeconds: midnight + $0) }
        let wet = samples.filter { $0.rainMillimetresPerHour > 0 }.count
        #expect(wet > samples.count / 50 && wet < samples.count / 2, "\(wet) of \(samples.count) minutes wet")
        var spells = 0
        for (before, after) in zip(samples, samples.dropFirst()) where before.rainMillimetresPerHour == 0 && after.rainMillimetresPerHour > 0 { spells += 1 }
        #expect(spells >= 3 && spells < wet / 5, "showers, not drizzle every other minute: \(spells) spells")
        let pm = samples.map(\.pm2_5).sorted()
        #expect(pm[pm.count * 99 / 100] > 3 * pm[pm.count / 2], "episodes: 99th percentile \(pm[pm.count * 99 / 100]), median \(pm[pm.count / 2])")
        let pressures = samples.map(\.hectopascal)
        #expect((pressures.max() ?? 0) - (pressures.min() ?? 0) > 4)
        for conditions in samples {
            #expect((-30...45).contains(conditions.airCelsius) && (3...100).contains(conditions.relativeHumidity)
                    && (950...1040).contains(conditions.hectopascal) && conditions.lux >= 0 && conditions.pm10 >= conditions.pm2_5 * 0.9)
        }
        // Consecutive minutes never repeat a temperature (the stuck check must mean something).
        let temperatures = samples.map(\.airCelsius)
        #expect(zip(temperatures, temperatures.dropFirst()).allSatisfy { $0 != $1 })
    }

    /// The drivers read the world through the simulated chips' registers and
    /// files: what they report is what the world was at that instant.
    @Test func driversReadTheWorldAsItMoves() throws {
        let world = SimulatedEnvironment(name: "demo-3")
        let station = SimulatedStation(weather: false, sleeper: NoSleep(), environment: world)
        let factory = SensorFactory(hardware: station, board: SensorSetTests().board)
        let air = try factory.make(SensorSpec(name: "air", driver: "bme280", bus: 1, address: 0x76))
        let soil = try factory.make(SensorSpec(name: "soil", driver: "ds18b20", options: ["rom": "28-0416b3421bff"]))
        let box = try factory.make(SensorSpec(name: "box", driver: "hwmon", options: ["device": "sht3x"]))
        var temperatures: [Double] = []
        for minute in 0..<30 {
            let time = midnight + 9 * 3600 + Double(minute) * 60
            station.update(atUnixSeconds: time)
            let truth = world.conditions(atUnixSeconds: time)
            let reading = try air.read()
            let kelvin = try #require(reading.first { $0.quantity == "temperature" }).value
            #expect(abs(kelvin - 273.15 - truth.airCelsius) < 0.02)
            #expect(abs(try #require(reading.first { $0.quantity == "pressure" }).value - truth.hectopascal * 100) < 3)
            #expect(abs(try #require(soil.read().first).value - 273.15 - truth.groundCelsius) < 0.07, "DS18B20: 1/16 °C steps")
            #expect(abs(try #require(box.read().first { $0.quantity == "relative_humidity" }).value - truth.enclosureHumidity) < 0.001)
            temperatures.append(kelvin)
        }
        #expect(Set(temperatures).count == temperatures.count, "every reading differs")
    }

    /// The w1_slave text the world writes: Maxim's CRC over the kernel
    /// document's scratchpad is its 57h, and the driver accepts what it makes.
    @Test func oneWireScratchpadsCarryTheirCRC() throws {
        let station = SimulatedStation(weather: false, sleeper: NoSleep(), environment: SimulatedEnvironment(seed: 7))
        station.update(atUnixSeconds: midnight)
        let probe = try DS18B20(name: "t", rom: "28-0316a2796aff", root: station.oneWireRoot)
        let value = try #require(try probe.read().first).value - 273.15
        let truth = SimulatedEnvironment(seed: 7).conditions(atUnixSeconds: midnight).airCelsius
        #expect(abs(value - truth) < 0.0625 + 1e-9)
    }
}
