import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SHT4x against Sensirion's datasheet. Commands written out again from its
/// command table ("I2C commands").
@Suite struct SHT4xPlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Command {
        static let measureHighPrecision: UInt8 = 0xFD // measure T & RH with high precision (high repeatability)
        static let readSerial: UInt8 = 0x89
    }
    static let address: UInt16 = 0x44 // SHT40-AD1B

    /// Datasheet "Checksum Calculation": CRC(0xBEEF) = 0x92, used here as the
    /// humidity word. "Conversion of Signal Output":
    /// RH = −6 + 125·S_RH/(2^16 − 1) = −6 + 125·48879/65535 = 87.231 %RH,
    /// T = −45 + 175·S_T/(2^16 − 1) = 25.00 °C for S_T = 0x6666 (CRC 0x93).
    /// The serial-number bytes are ours (the datasheet gives no example).
    @Test func aHighPrecisionMeasurementWithTheDatasheetsCRCExample() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [Command.readSerial], "Read serial number"),
            Step(address: Self.address, read: [0x12, 0x34, 0x37, 0x56, 0x78, 0x7D], "Serial 0x12345678"),
            Step(address: Self.address, write: [Command.measureHighPrecision], "Measure, high precision"),
            Step(address: Self.address, read: [0x66, 0x66, 0x93, 0xBE, 0xEF, 0x92], "S_T 0x6666, S_RH 0xBEEF"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try SHT4x(name: "air", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        #expect(sensor.serialNumber == 0x1234_5678)
        let readings = try sensor.read()
        try bus.done()
        #expect(abs(readings[0].value - 273.15 - 25.0) < 1e-9)
        #expect(abs(readings[1].value - 87.2307) < 1e-4)
        // High repeatability: at most 8.3 ms.
        #expect(sleeper.all.last == 8.3)
    }

    /// The conversion can go below 0 %RH (S_RH < 3146); the datasheet says to
    /// crop it to 0…100.
    @Test func humidityBelowZeroIsCroppedAsTheDatasheetSays() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [Command.readSerial]),
            Step(address: Self.address, read: [0x12, 0x34, 0x37, 0x56, 0x78, 0x7D]),
            Step(address: Self.address, write: [Command.measureHighPrecision]),
            Step(address: Self.address, read: [0x66, 0x66, 0x93, 0x00, 0x00, 0x81], "S_RH 0 → −6 %RH"),
        ])
        let sensor = try SHT4x(name: "air", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
        #expect(try sensor.read()[1].value == 0)
        try bus.done()
    }
}
