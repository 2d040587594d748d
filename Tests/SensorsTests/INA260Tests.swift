import Hardware
import Sensors
import SimulatedHardware
import Testing

/// INA260 against TI's datasheet (SBOS656): ids at FEh (5449h) and FFh
/// (2270h), the configuration reset value 6127h with AVG in bits 11…9, and
/// the fixed LSBs of §8.6: current 1.25 mA (signed), bus voltage 1.25 mV,
/// power 10 mW.
@Suite struct INA260Tests {
    typealias Step = PlaybackI2CBus.Step
    static let address: UInt16 = 0x41

    static let detection: [Step] = [
        Step(address: address, write: [0xFE], read: [0x54, 0x49], "manufacturer id: TI"),
        Step(address: address, write: [0xFF], read: [0x22, 0x70], "die id 227h, revision 0"),
    ]

    /// Averaging 16: AVG = 010 → 0110 0101 0010 0111 = 6527h. Current 01E0h
    /// = 480 × 1.25 mA = 0.6 A; bus 0FF0h = 4080 × 1.25 mV = 5.1 V; power
    /// 0132h = 306 × 10 mW = 3.06 W (= 0.6 A × 5.1 V).
    @Test func aReadingWithSixteenSamplesAveraged() throws {
        let bus = PlaybackI2CBus(Self.detection + [
            Step(address: Self.address, write: [0x00, 0x65, 0x27], "configuration, AVG = 16"),
            Step(address: Self.address, write: [0x01], read: [0x01, 0xE0], "current"),
            Step(address: Self.address, write: [0x02], read: [0x0F, 0xF0], "bus voltage"),
            Step(address: Self.address, write: [0x03], read: [0x01, 0x32], "power"),
        ])
        let sensor = try INA260(name: "supply", device: I2CDevice(bus: bus, address: Self.address), averaging: 16)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings.map(\.quantity) == ["voltage", "current", "power"])
        #expect(abs(readings[0].value - 5.1) < 1e-9 && abs(readings[1].value - 0.6) < 1e-9 && abs(readings[2].value - 3.06) < 1e-9)
    }

    /// FFFFh in the current register is −1.25 mA, not 81.9 A.
    @Test func currentIsSigned() throws {
        let bus = PlaybackI2CBus(Self.detection + [
            Step(address: Self.address, write: [0x00, 0x61, 0x27], "configuration at its reset value"),
            Step(address: Self.address, write: [0x01], read: [0xFF, 0xFF], "current −1"),
            Step(address: Self.address, write: [0x02], read: [0x00, 0x00], "bus voltage"),
            Step(address: Self.address, write: [0x03], read: [0x00, 0x00], "power"),
        ])
        let readings = try INA260(name: "supply", device: I2CDevice(bus: bus, address: Self.address)).read()
        #expect(abs(readings[1].value + 0.00125) < 1e-12)
    }

    /// An INA226 (die id 2260h) answers at the same addresses with the same
    /// manufacturer: it is not taken for an INA260, and nothing is written.
    @Test func anINA226IsNotTakenForAnINA260() {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [0xFE], read: [0x54, 0x49], "manufacturer id: TI"),
            Step(address: Self.address, write: [0xFF], read: [0x22, 0x60], "die id 226h: an INA226"),
        ])
        #expect { _ = try INA260(name: "x", device: I2CDevice(bus: bus, address: Self.address)) } throws: {
            ($0 as? SensorError)?.code == .wrongChip && "\($0)".contains("0x2260")
        }
        #expect(throws: SensorError.self) { _ = try INA260(name: "x", device: I2CDevice(bus: bus, address: Self.address), averaging: 3) }
    }

    @Test func theSimulatedChipMeasuresWhatItIsSetToAndKeepsTheAveraging() throws {
        let simulated = SimulatedINA260(volts: 5.1, amperes: 0.6)
        let bus = SimulatedI2CBus()
        bus.attach(simulated, at: Self.address)
        let sensor = try INA260(name: "supply", device: I2CDevice(bus: bus, address: Self.address), averaging: 1024)
        #expect(simulated.configuration == 0x6F27, "AVG = 111")
        simulated.set(volts: 4.87, amperes: 2.1)
        let readings = try sensor.read()
        #expect(abs(readings[0].value - 4.87) < 0.00125 && abs(readings[1].value - 2.1) < 0.00125 && abs(readings[2].value - 4.87 * 2.1) < 0.01)
    }
}
