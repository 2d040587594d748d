import Hardware
import Sensors
import SimulatedHardware
import Testing

/// VEML7700 against Vishay's datasheet 84286 (rev 1.7) and application note
/// 84323. Neither gives example bytes, so the words here are worked out by
/// hand from the register table (ALS_CONF: gain bits 12:11 with 1/8 = 10b,
/// 1/4 = 11b, 1 = 00b; IT bits 9:6 with 100 ms = 0000b, 50 ms = 1000b,
/// 25 ms = 1100b; SD bit 0), sent command code, LSB, MSB; and the expected lux
/// with python3 from 0.0042 lx/count × (2 / gain) × (800 ms / IT) and the
/// note's polynomial 6.0135e-13·x⁴ − 9.3924e-9·x³ + 8.1488e-5·x² + 1.0023·x.
@Suite struct VEML7700PlaybackTests {
    typealias Step = PlaybackI2CBus.Step
    static let address: UInt16 = 0x10

    /// The note's start: gain 1/8, 100 ms = 0x1000, written and read back.
    static let start: [Step] = [
        Step(address: address, write: [0x00, 0x00, 0x10], "ALS_CONF: gain 1/8, IT 100 ms, power on"),
        Step(address: address, write: [0x00], read: [0x00, 0x10], "ALS_CONF read back"),
    ]

    static func als(_ low: UInt8, _ high: UInt8, _ comment: String) -> Step {
        Step(address: address, write: [0x04], read: [low, high], comment)
    }

    @Test func inTheWindowAtTheStartSettingOneReadAndTheCorrection() throws {
        let bus = PlaybackI2CBus(Self.start + [Self.als(0x71, 0x02, "ALS 625 counts")])
        let sleeper = RecordingSleeper()
        let sensor = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        // 625 × 0.5376 = 336.0 lx, corrected (gain 1/8) to 345.62385132334936 lx.
        #expect(readings.count == 1)
        #expect(abs(readings[0].value - 345.62385132334936) < 1e-9, "\(readings[0].value)")
        #expect(readings[0].unit == "lx" && !readings[0].outOfRange)
        // 2 × IT (the conversion under way, then one with the new setting) + 4 ms after power-on.
        #expect(sleeper.all == [204])
    }

    @Test func dimLightRaisesTheGainThenReads() throws {
        let bus = PlaybackI2CBus(Self.start + [
            Self.als(0x32, 0x00, "50 counts: below 100"),
            Step(address: Self.address, write: [0x00, 0x00, 0x18], "gain 1/4, 100 ms"),
            Self.als(0x63, 0x00, "99 counts: still below 100"),
            Step(address: Self.address, write: [0x00, 0x00, 0x00], "gain 1, 100 ms"),
            Self.als(0x8C, 0x01, "396 counts"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        // 396 × 0.0672 = 26.6112 lx; no correction at gain 1.
        #expect(abs(readings[0].value - 26.6112) < 1e-9, "\(readings[0].value)")
        #expect(sleeper.all == [204, 204, 204])
    }

    @Test func brightLightShortensTheIntegrationTime() throws {
        let bus = PlaybackI2CBus(Self.start + [
            Self.als(0x20, 0x4E, "20000 counts: above 10000"),
            Step(address: Self.address, write: [0x00, 0x00, 0x12], "gain 1/8, 50 ms"),
            Self.als(0x11, 0x27, "10001 counts: still above"),
            Step(address: Self.address, write: [0x00, 0x00, 0x13], "gain 1/8, 25 ms"),
            Self.als(0x88, 0x13, "5000 counts"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        // 5000 × 2.1504 = 10752 lx, corrected to 16559.349861163046 lx.
        #expect(abs(readings[0].value - 16559.349861163046) < 1e-6, "\(readings[0].value)")
        #expect(sleeper.all == [204, 104, 54])
    }

    @Test func aFixedSettingIsWrittenAsConfigured() throws {
        // Gain 2 = 01b, 800 ms = 0011b: 0x0800 | 0x00C0 = 0x08C0.
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [0x00, 0xC0, 0x08], "ALS_CONF: gain 2, 800 ms"),
            Step(address: Self.address, write: [0x00], read: [0xC0, 0x08]),
            Self.als(0x50, 0xC3, "50000 counts: fixed, no range change"),
            Step(address: Self.address, write: [0x00, 0xC1, 0x08], "close: ALS_SD = 1"),
        ])
        let sensor = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), mode: .fixed(.init(.two, .ms800)),
                                  sleeper: RecordingSleeper())
        let readings = try sensor.read()
        sensor.close()
        try bus.done()
        #expect(abs(readings[0].value - 210) < 1e-9, "50000 × 0.0042 lx")
    }

    @Test func somethingThatDoesNotKeepTheConfigurationIsAWrongChip() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [0x00, 0x00, 0x10]),
            Step(address: Self.address, write: [0x00], read: [0xFF, 0xFF], "reads back something else"),
        ])
        #expect { _ = try VEML7700(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper()) } throws: {
            ($0 as? SensorError)?.code == .wrongChip && "\($0)".contains("0xffff")
        }
        try bus.done()
    }
}
