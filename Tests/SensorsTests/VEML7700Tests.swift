import Hardware
import Sensors
import SimulatedHardware
import Testing

/// VEML7700 on the simulated chip, whose counts follow gain, integration
/// time, saturation and the sensor's non-linearity: auto-range must find a
/// setting and the correction must undo the response, across the range.
@Suite struct VEML7700Tests {
    static let address: UInt16 = 0x10

    func sensor(_ chip: SimulatedVEML7700, mode: VEML7700.Mode = .auto, sleeper: RecordingSleeper = RecordingSleeper()) throws -> VEML7700 {
        let bus = SimulatedI2CBus()
        bus.attach(chip, at: Self.address)
        return try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), mode: mode, sleeper: sleeper)
    }

    @Test(arguments: [0.05, 0.8, 12, 75, 350, 2_500, 16_000, 54_000, 100_000, 130_000])
    func autoRangeReadsTheIlluminanceWithinAFewCounts(lux: Double) throws {
        let chip = SimulatedVEML7700(lux: lux)
        let sensor = try sensor(chip)
        let reading = try #require(try sensor.read().first)
        // Half a count of the setting it ended on, plus 0.5 % for the
        // polynomial's inverse in the simulator.
        #expect(abs(reading.value - lux) <= max(0.01, lux * 0.005), "\(lux) lx read as \(reading.value)")
        #expect(!reading.outOfRange)
    }

    @Test func theSettingIsKeptBetweenReadsAndFollowsTheLight() throws {
        let chip = SimulatedVEML7700(lux: 5)
        let sleeper = RecordingSleeper()
        let sensor = try sensor(chip, sleeper: sleeper)
        _ = try sensor.read()
        let writes = chip.configurationWrites
        _ = try sensor.read()
        #expect(chip.configurationWrites == writes, "same light: no new setting, no wait")
        chip.set(lux: 20_000)
        let bright = try #require(try sensor.read().first)
        #expect(abs(bright.value - 20_000) < 100, "\(bright.value)")
        #expect(chip.configuration & 1 == 0, "powered on")
    }

    @Test func aboveTheRangeIsFlaggedAndBounded() throws {
        let chip = SimulatedVEML7700(lux: 500_000)
        let reading = try #require(try sensor(chip).read().first)
        #expect(reading.outOfRange)
        #expect(reading.value == VEML7700.maximumLux)
    }

    @Test func aFixedSettingSaturatesInsteadOfChangingRange() throws {
        let chip = SimulatedVEML7700(lux: 2_000)
        let sensor = try sensor(chip, mode: .fixed(.init(.two, .ms800)))
        let reading = try #require(try sensor.read().first)
        #expect(reading.outOfRange, "65535 counts at gain 2, 800 ms: 275 lx at most")
        #expect(chip.configurationWrites == 1)
    }

    @Test func closeShutsItDown() throws {
        let chip = SimulatedVEML7700()
        let sensor = try sensor(chip)
        sensor.close()
        #expect(chip.configuration & 1 == 1)
    }

    @Test func theResolutionTable() {
        // Datasheet rev 1.7 / application note: 0.0042 at gain 2, 800 ms … 2.1504 at gain 1/8, 25 ms.
        #expect(abs(VEML7700.Setting(.two, .ms800).resolution - 0.0042) < 1e-12)
        #expect(abs(VEML7700.Setting(.one, .ms100).resolution - 0.0672) < 1e-12)
        #expect(abs(VEML7700.Setting(.eighth, .ms25).resolution - 2.1504) < 1e-12)
        #expect(abs(VEML7700.corrected(1000) - 1074.9971) < 1e-3, "the polynomial at 1000 lx, by hand")
    }

    @Test func nothingAtTheAddressIsNoAcknowledge() {
        let bus = SimulatedI2CBus()
        #expect { _ = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper()) } throws: {
            ($0 as? SensorError)?.code == .noAcknowledge
        }
    }
}
