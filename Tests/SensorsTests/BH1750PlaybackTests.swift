import Hardware
import Sensors
import SimulatedHardware
import Testing

/// BH1750FVI against ROHM's datasheet (Technical Note, 2009.04 Rev.B).
/// Opcodes written out again from its "Instruction Set Architecture" table.
@Suite struct BH1750PlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Opcode {
        static let powerOn: UInt8 = 0b0000_0001
        static let oneTimeHighResolution: UInt8 = 0b0010_0000
    }
    /// ADDR = 'L': slave address "0100011" (p. 10, "Slave Address").
    static let address: UInt16 = 0b010_0011

    /// The datasheet's example (p. 10, "Read Format"; the measurement
    /// sequence of p. 7): High Byte = 1000_0011, Low Byte = 1001_0000,
    /// (2^15 + 2^9 + 2^8 + 2^7 + 2^4) / 1.2 ≈ 28067 lx.
    @Test func theDatasheetsReadFormatExampleIs28067Lux() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [Opcode.powerOn], "Power On (detection)"),
            Step(address: Self.address, write: [Opcode.oneTimeHighResolution], "One Time H-Resolution Mode"),
            Step(address: Self.address, read: [0b1000_0011, 0b1001_0000], "Measurement result: 33680 counts"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try BH1750(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings.count == 1)
        #expect(readings[0].quantity == "illuminance" && readings[0].unit == "lx")
        #expect(abs(readings[0].value - 28_066.67) < 0.01)
        #expect(!readings[0].outOfRange)
        // H-resolution measurement time: max. 180 ms (electrical characteristics).
        #expect(sleeper.all == [180])
    }

    @Test func noAcknowledgeToPowerOnMeansNoBH1750() {
        let bus = PlaybackI2CBus([Step(address: Self.address, write: [Opcode.powerOn], failure: .noAcknowledgeAddress, "nothing there")])
        do {
            _ = try BH1750(name: "light", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
            Issue.record("a BH1750 was made without an acknowledge")
        } catch {
            #expect(error.message.contains("no acknowledge from 0x23 on playback bus"))
        }
        #expect(throws: Never.self) { try bus.done() }
    }
}
