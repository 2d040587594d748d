import Hardware
import Sensors
import SimulatedHardware
import Testing

@Suite struct SCD4xTests {
    enum Command {
        static let stopPeriodic: [UInt8] = [0x3F, 0x86]
        static let serialNumber: [UInt8] = [0x36, 0x82]
        static let startPeriodic: [UInt8] = [0x21, 0xB1]
        static let dataReady: [UInt8] = [0xE4, 0xB8]
        static let readMeasurement: [UInt8] = [0xEC, 0x05]
    }

    @Test func startsPeriodicMeasurementAndReadsWhenReady() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedSCD4x(ppm: 812, celsius: 24.5, humidity: 38), at: 0x62)
        let recording = RecordingI2CBus(bus)
        let sensor = try SCD4x(name: "co2", device: I2CDevice(bus: recording, address: 0x62), sleeper: RecordingSleeper())
        let start: [I2COperation] = [.write(Command.stopPeriodic), .write(Command.serialNumber), .read(count: 9), .write(Command.startPeriodic)]
        #expect(recording.steps.flatMap(\.operations) == start)
        #expect(sensor.serialNumber == 0xF896_9F07_3BB3)
        let readings = try sensor.read()
        #expect(readings[0] == SensorReading(quantity: "carbon_dioxide", value: 812, unit: "ppm"))
        #expect(abs(readings[1].value - (24.5 + 273.15)) < 0.01)
        #expect(abs(readings[2].value - 38) < 0.01)
    }

    @Test func notReadyYetIsAnErrorWithTheReason() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedSCD4x(alwaysReady: false)
        bus.attach(chip, at: 0x62)
        let sensor = try SCD4x(name: "co2", device: I2CDevice(bus: bus, address: 0x62), sleeper: RecordingSleeper())
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .notReady }
        chip.markMeasurementReady()
        #expect(try sensor.read().count == 3)
    }
}
