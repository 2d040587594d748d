import Hardware
import Sensors
import SimulatedHardware
import Testing

/// INA219 against TI's datasheet (SBOS448): the register map (§8.6), the
/// calibration example of §8.5.1 (R_shunt 0.5 Ω, Max_Expected_I 0.6 A,
/// Current_LSB chosen 20 µA → Cal = trunc(0.04096 / (20 µA × 0.5 Ω)) = 4096,
/// Power_LSB = 20 × Current_LSB = 0.4 mW), and its simulated chip.
@Suite struct INA219Tests {
    typealias Step = PlaybackI2CBus.Step
    static let address: UInt16 = 0x40

    /// Reset, the configuration read back at its reset value, the calibration written.
    static func setUp(calibration: [UInt8]) -> [Step] {
        [
            Step(address: address, write: [0x00, 0x80, 0x00], "RST"),
            Step(address: address, write: [0x00], read: [0x39, 0x9F], "configuration at reset: 399Fh"),
            Step(address: address, write: [0x05] + calibration, "calibration"),
        ]
    }

    /// With the datasheet's calibration: bus voltage register 5D9Ah → bits
    /// 15…3 = 2995 × 4 mV = 11.98 V (CNVR set, OVF clear); current register
    /// 07D0h = 2000 × 20 µA = 40 mA; power register 04AEh = 1198 × 0.4 mW =
    /// 479.2 mW (= 40 mA × 11.98 V, as Power = Current × Bus / 5000 gives).
    @Test func theDatasheetCalibrationExample() throws {
        // Max_Expected_I 0.6 A: minimum LSB 18.3 µA, rounded up to 20 µA as in the datasheet.
        let bus = PlaybackI2CBus(Self.setUp(calibration: [0x10, 0x00]) + [
            Step(address: Self.address, write: [0x02], read: [0x5D, 0x9A], "bus voltage"),
            Step(address: Self.address, write: [0x04], read: [0x07, 0xD0], "current"),
            Step(address: Self.address, write: [0x03], read: [0x04, 0xAE], "power"),
            Step(address: Self.address, write: [0x05], read: [0x10, 0x00], "calibration still held"),
        ])
        let sensor = try INA219(name: "battery", device: I2CDevice(bus: bus, address: Self.address), shuntOhms: 0.5, maximumCurrent: 0.6)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings.map(\.quantity) == ["voltage", "current", "power"])
        #expect(abs(readings[0].value - 11.98) < 1e-9 && readings[0].unit == "V")
        #expect(abs(readings[1].value - 0.040) < 1e-9 && readings[1].unit == "A")
        #expect(abs(readings[2].value - 0.4792) < 1e-9 && readings[2].unit == "W")
        #expect(!readings.contains { $0.outOfRange })
    }

    /// Negative current (charging a battery through a high-side shunt) is
    /// two's complement; OVF flags current and power as out of range.
    @Test func negativeCurrentAndOverflow() throws {
        let bus = PlaybackI2CBus(Self.setUp(calibration: [0x10, 0x00]) + [
            Step(address: Self.address, write: [0x02], read: [0x5D, 0x9B], "bus voltage, OVF set"),
            Step(address: Self.address, write: [0x04], read: [0xF8, 0x30], "current -2000"),
            Step(address: Self.address, write: [0x03], read: [0x04, 0xAE], "power"),
            Step(address: Self.address, write: [0x05], read: [0x10, 0x00], "calibration"),
        ])
        let sensor = try INA219(name: "battery", device: I2CDevice(bus: bus, address: Self.address), shuntOhms: 0.5, maximumCurrent: 0.6)
        let readings = try sensor.read()
        #expect(abs(readings[1].value + 0.040) < 1e-9)
        #expect(readings[1].outOfRange && readings[2].outOfRange && !readings[0].outOfRange)
    }

    /// A chip whose configuration is not 399Fh after a reset is not an INA219:
    /// no calibration is written to it.
    @Test func anotherChipIsRefusedBeforeTheCalibration() {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [0x00, 0x80, 0x00], "RST"),
            Step(address: Self.address, write: [0x00], read: [0x61, 0x27], "an INA260's configuration"),
        ])
        #expect { _ = try INA219(name: "x", device: I2CDevice(bus: bus, address: Self.address)) } throws: {
            ($0 as? SensorError)?.code == .wrongChip && "\($0)".contains("0x6127")
        }
    }

    @Test func theSimulatedChipMeasuresWhatItIsSetTo() throws {
        let simulated = SimulatedINA219(volts: 12.6, amperes: 0.25, shuntOhms: 0.1)
        let bus = SimulatedI2CBus()
        bus.attach(simulated, at: Self.address)
        let sensor = try INA219(name: "battery", device: I2CDevice(bus: bus, address: Self.address), shuntOhms: 0.1)
        var readings = try sensor.read()
        // Default max current 3.2 A: Current_LSB 100 µA (Cal 4096).
        #expect(abs(readings[0].value - 12.6) < 0.004)
        #expect(abs(readings[1].value - 0.25) < 0.0002)
        #expect(abs(readings[2].value - 12.6 * 0.25) < 0.01)
        simulated.set(volts: 11.2, amperes: -1.5)
        readings = try sensor.read()
        #expect(abs(readings[0].value - 11.2) < 0.004 && abs(readings[1].value + 1.5) < 0.0002)
    }

    /// After a brown-out the chip forgets its calibration (current and power
    /// read 0): the driver says so and programs it again instead of reporting 0 A.
    @Test func aLostCalibrationIsWrittenAgainNotReportedAsZeroAmperes() throws {
        let simulated = SimulatedINA219(volts: 12.6, amperes: 0.25, shuntOhms: 0.1)
        let bus = SimulatedI2CBus()
        bus.attach(simulated, at: Self.address)
        let sensor = try INA219(name: "battery", device: I2CDevice(bus: bus, address: Self.address))
        simulated.powerCycle()
        #expect { _ = try sensor.read() } throws: { ($0 as? SensorError)?.code == .notReady }
        #expect(abs(try sensor.read()[1].value - 0.25) < 0.0002)
    }

    @Test func settingsTheShuntCannotMeasureAreRefused() {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedINA219(), at: Self.address)
        let device = I2CDevice(bus: bus, address: Self.address)
        #expect(throws: SensorError.self) { _ = try INA219(name: "x", device: device, shuntOhms: 0.1, maximumCurrent: 5) } // > 3.2 A
        #expect(throws: SensorError.self) { _ = try INA219(name: "x", device: device, shuntOhms: 0) }
        #expect(throws: SensorError.self) { _ = try INA219(name: "x", device: device, shuntOhms: .nan) }
    }
}
