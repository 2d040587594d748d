import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SHT4x, SHT3x and the Sensirion CRC. Commands written out again here.
@Suite struct SensirionTests {
    enum SHT4xCommand {
        static let measureHighPrecision: UInt8 = 0xFD
        static let readSerial: UInt8 = 0x89
    }

    enum SHT3xCommand {
        static let singleShotHighNoStretch: [UInt8] = [0x24, 0x00]
        static let readStatus: [UInt8] = [0xF3, 0x2D]
    }

    @Test func crcDatasheetExample() {
        #expect(SensirionCRC.checksum([0xBE, 0xEF]) == 0x92)
        #expect(SensirionCRC.words([0xBE, 0xEF, 0x92]) == [0xBEEF])
        #expect(SensirionCRC.words([0xBE, 0xEF, 0x93]) == nil)
    }

    @Test func sht4xMeasuresInHighPrecision() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedSHT4x(celsius: 23.4, humidity: 56.7), at: 0x44)
        let recording = RecordingI2CBus(bus)
        let sleeper = RecordingSleeper()
        let sensor = try SHT4x(name: "air", device: I2CDevice(bus: recording, address: 0x44), sleeper: sleeper)
        #expect(sensor.serialNumber == 0x1234_5678)
        recording.clear()
        let readings = try sensor.read()
        let sequence: [[I2COperation]] = [[.write([SHT4xCommand.measureHighPrecision])], [.read(count: 6)]]
        #expect(recording.steps.map(\.operations) == sequence)
        #expect(sleeper.all.last == 8.3, "datasheet: high precision takes at most 8.3 ms")
        #expect(abs(readings[0].value - (23.4 + 273.15)) < 0.01)
        #expect(abs(readings[1].value - 56.7) < 0.01)
    }

    @Test func aBadCRCIsRetriedThenReported() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedSHT4x()
        bus.attach(chip, at: 0x44)
        let sensor = try SHT4x(name: "air", device: I2CDevice(bus: bus, address: 0x44), sleeper: RecordingSleeper())
        chip.corruptNextReplies(2)
        #expect(try sensor.read().count == 2, "two bad replies, the third attempt succeeds")
        chip.corruptNextReplies(10)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .crc }
    }

    @Test func sht3xSingleShotWithoutClockStretching() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedSHT3x(celsius: -5.25, humidity: 88), at: 0x45)
        let recording = RecordingI2CBus(bus)
        let sensor = try SHT3x(name: "outside", device: I2CDevice(bus: recording, address: 0x45), sleeper: RecordingSleeper())
        let detection: [[I2COperation]] = [[.write(SHT3xCommand.readStatus)], [.read(count: 3)]]
        #expect(recording.steps.map(\.operations) == detection)
        recording.clear()
        let readings = try sensor.read()
        #expect(recording.steps.first?.operations == [.write(SHT3xCommand.singleShotHighNoStretch)])
        #expect(abs(readings[0].value - (273.15 - 5.25)) < 0.01)
        #expect(abs(readings[1].value - 88) < 0.01)
    }

    @Test func aWrongChipAtTheAddressFailsDetection() {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(), at: 0x44) // a register chip answers, but not with CRC'd words
        #expect(throws: SensorError.self) { _ = try SHT4x(name: "air", device: I2CDevice(bus: bus, address: 0x44), sleeper: RecordingSleeper()) }
    }
}
