import Hardware
import Sensors
import SimulatedHardware
import Testing

@Suite struct BH1750Tests {
    enum Command {
        static let powerOn: UInt8 = 0x01
        static let oneTimeHighResolution: UInt8 = 0x20
    }

    @Test func oneTimeHighResolutionMeasurement() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBH1750(lux: 1000), at: 0x23)
        let recording = RecordingI2CBus(bus)
        let sleeper = RecordingSleeper()
        let sensor = try BH1750(name: "light", device: I2CDevice(bus: recording, address: 0x23), sleeper: sleeper)
        let readings = try sensor.read()
        let sequence: [[I2COperation]] = [[.write([Command.powerOn])], [.write([Command.oneTimeHighResolution])], [.read(count: 2)]]
        #expect(recording.steps.map(\.operations) == sequence)
        #expect(sleeper.all == [180], "datasheet: H-resolution takes at most 180 ms")
        #expect(readings == [SensorReading(quantity: "illuminance", value: 1000, unit: "lx")]) // 1200 counts / 1.2
    }
}
