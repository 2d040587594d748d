import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SHT3x-DIS against Sensirion's datasheet (May 2018, version 5).
/// Commands written out again from its tables.
@Suite struct SHT3xPlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Command {
        /// Table 9: single shot, high repeatability, clock stretching disabled.
        static let singleShotHighNoStretch: [UInt8] = [0x24, 0x00]
        /// Table 17: read out of status register.
        static let readStatus: [UInt8] = [0xF3, 0x2D]
    }
    static let address: UInt16 = 0x44 // ADDR pin to VSS (Table 7)

    /// The response carries the CRC example of Table 20, CRC(0xBEEF) = 0x92,
    /// as the humidity word; the temperature word 0x6666 carries CRC 0x93
    /// (same algorithm). §4.13: T = −45 + 175·S_T/(2^16 − 1) = 25.00 °C,
    /// RH = 100·S_RH/(2^16 − 1) = 100·48879/65535 = 74.585 %RH.
    @Test func aSingleShotMeasurementWithTheDatasheetsCRCExample() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: Command.readStatus, "Read status register (detection)"),
            // Table 18 defaults: alert pending [15] and reset detected [4] set: 0x8010, CRC 0xE1.
            Step(address: Self.address, read: [0x80, 0x10, 0xE1], "Status 0x8010"),
            Step(address: Self.address, write: Command.singleShotHighNoStretch, "Measure, high repeatability, no stretching"),
            Step(address: Self.address, read: [0x66, 0x66, 0x93, 0xBE, 0xEF, 0x92], "S_T 0x6666, S_RH 0xBEEF"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try SHT3x(name: "air", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings[0].quantity == "temperature")
        #expect(abs(readings[0].value - 273.15 - 25.0) < 1e-9)
        #expect(readings[1].quantity == "relative_humidity")
        #expect(abs(readings[1].value - 74.5846) < 1e-4)
        // Table 4: high repeatability takes at most 15.5 ms.
        #expect(sleeper.all.last == 15.5)
    }

    /// A corrupted CRC (0x93 instead of Table 20's 0x92) is read again,
    /// not turned into a humidity.
    @Test func aWrongCRCIsMeasuredAgain() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: Command.readStatus),
            Step(address: Self.address, read: [0x80, 0x10, 0xE1]),
            Step(address: Self.address, write: Command.singleShotHighNoStretch),
            Step(address: Self.address, read: [0x66, 0x66, 0x93, 0xBE, 0xEF, 0x93], "CRC of 0xBEEF wrong"),
            Step(address: Self.address, write: Command.singleShotHighNoStretch, "second attempt"),
            Step(address: Self.address, read: [0x66, 0x66, 0x93, 0xBE, 0xEF, 0x92]),
        ])
        let sensor = try SHT3x(name: "air", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
        let readings = try sensor.read()
        try bus.done()
        #expect(abs(readings[1].value - 74.5846) < 1e-4)
    }
}
