import Hardware
import Sensors
import SimulatedHardware
import Testing

@Suite struct ADS1115Tests {
    enum Register {
        static let conversion: UInt8 = 0x00
        static let config: UInt8 = 0x01
    }

    @Test func singleShotPerChannelWithTheChosenGain() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedADS1115(volts: [1.25, 0.5, 3.3, 0]), at: 0x48)
        let recording = RecordingI2CBus(bus)
        let sensor = try ADS1115(name: "soil", device: I2CDevice(bus: recording, address: 0x48), channels: [0, 2], fullScale: 4.096,
                                 sleeper: RecordingSleeper())
        recording.clear()
        let readings = try sensor.read()
        // AIN0: OS=1, MUX=100, PGA=001 (±4.096 V), MODE=1, DR=100, comparator off → 0xC383.
        #expect(recording.steps.first?.operations == [.write([Register.config, 0xC3, 0x83])])
        #expect(recording.steps.contains { $0.operations == [.write([Register.config, 0xE3, 0x83])] }, "AIN2: OS=1, MUX=110 → 0xE383")
        #expect(readings.map(\.quantity) == ["voltage_ain0", "voltage_ain2"])
        #expect(abs(readings[0].value - 1.25) < 0.0002)
        #expect(abs(readings[1].value - 3.3) < 0.0002)
    }

    @Test func aFullScaleInputIsFlagged() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedADS1115(volts: [3.0]), at: 0x48)
        let sensor = try ADS1115(name: "x", device: I2CDevice(bus: bus, address: 0x48), channels: [0], fullScale: 2.048, sleeper: RecordingSleeper())
        #expect(try sensor.read().first?.outOfRange == true)
    }

    @Test func badSettingsAndWrongChipsAreRefused() {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedADS1115(), at: 0x48)
        bus.attach(SimulatedBME280(), at: 0x49)
        #expect(throws: SensorError.self) { _ = try ADS1115(name: "x", device: I2CDevice(bus: bus, address: 0x48), fullScale: 5.0) }
        #expect(throws: SensorError.self) { _ = try ADS1115(name: "x", device: I2CDevice(bus: bus, address: 0x48), channels: [4]) }
        #expect { _ = try ADS1115(name: "x", device: I2CDevice(bus: bus, address: 0x49)) } throws: { ($0 as? SensorError)?.code == .wrongChip }
    }
}
