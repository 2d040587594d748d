import Hardware
import Sensors
import SimulatedHardware
import Testing

/// ADS1115 against TI's datasheet (SBAS444): the register map of §9.6, the
/// config register fields of its Config Register table, the full-scale
/// ranges and LSB sizes of Table 3. The datasheet has no single-shot worked
/// example; its Quickstart Guide (§9.5.3) writes the config register as
/// pointer 0x01 then MSB, LSB in one write, as here, and reads the
/// conversion register after pointing at 0x00.
@Suite struct ADS1115PlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Pointer {
        static let conversion: UInt8 = 0b00
        static let config: UInt8 = 0b01
        static let lowThreshold: UInt8 = 0b10
        static let highThreshold: UInt8 = 0b11
    }
    static let address: UInt16 = 0x48 // ADDR to GND

    /// Detection: Lo_thresh and Hi_thresh at their reset values 8000h and 7FFFh (§9.6.4).
    static let detection: [Step] = [
        Step(address: address, write: [Pointer.lowThreshold], read: [0x80, 0x00], "Lo_thresh reset value"),
        Step(address: address, write: [Pointer.highThreshold], read: [0x7F, 0xFF], "Hi_thresh reset value"),
    ]

    /// Config for AIN0 against GND at ±4.096 V, single shot, 128 SPS,
    /// comparator off: OS = 1, MUX = 100, PGA = 001, MODE = 1, DR = 100,
    /// COMP_MODE/POL/LAT = 0, COMP_QUE = 11 → 1100 0011 1000 0011 = 0xC383
    /// (the reset value 8583h differs in MUX = 000 and PGA = 010).
    /// AIN3: MUX = 111 → 0xF383. At ±4.096 V one LSB is 125 µV (Table 3):
    /// 0x4000 = 16384 · 125 µV = 2.048 V; 7FFFh is positive full scale.
    @Test func twoChannelsAtFourVoltsFullScale() throws {
        let bus = PlaybackI2CBus(Self.detection + [
            Step(address: Self.address, write: [Pointer.config, 0xC3, 0x83], "AIN0, ±4.096 V, single shot, start"),
            Step(address: Self.address, write: [Pointer.config], read: [0x43, 0x83], "OS = 0: converting"),
            Step(address: Self.address, write: [Pointer.config], read: [0xC3, 0x83], "OS = 1: done"),
            Step(address: Self.address, write: [Pointer.conversion], read: [0x40, 0x00], "conversion 0x4000"),
            Step(address: Self.address, write: [Pointer.config, 0xF3, 0x83], "AIN3, ±4.096 V, single shot, start"),
            Step(address: Self.address, write: [Pointer.config], read: [0xF3, 0x83], "OS = 1: done"),
            Step(address: Self.address, write: [Pointer.conversion], read: [0x7F, 0xFF], "positive full scale"),
        ])
        let sleeper = RecordingSleeper()
        let adc = try ADS1115(name: "adc", device: I2CDevice(bus: bus, address: Self.address), channels: [0, 3],
                              fullScale: 4.096, sleeper: sleeper)
        let readings = try adc.read()
        try bus.done()
        #expect(readings[0] == SensorReading(quantity: "voltage_ain0", value: 2.048, unit: "V"))
        #expect(readings[1].quantity == "voltage_ain3")
        #expect(abs(readings[1].value - 32767 * 125e-6) < 1e-12)
        #expect(readings[1].outOfRange, "7FFFh is the clipped positive full scale")
        // 128 SPS: one conversion takes 1/128 s; then 1 ms between polls of OS.
        #expect(sleeper.all.count == 3 && abs(sleeper.all[0] - (1000.0 / 128 + 0.1)) < 1e-9 && sleeper.all[1] == 1)
    }

    /// A chip whose Lo_thresh is not 8000h is not an ADS1115 at reset: refused
    /// before anything is written to it.
    @Test func aChipWithOtherThresholdsIsNotTakenForAnADS1115() throws {
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: [Pointer.lowThreshold], read: [0x12, 0x34], "not 8000h"),
            Step(address: Self.address, write: [Pointer.highThreshold], read: [0x7F, 0xFF]),
        ])
        do {
            _ = try ADS1115(name: "adc", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
            Issue.record("an ADS1115 was made from the wrong chip")
        } catch {
            #expect(error.message.contains("does not look like an ADS1115"))
        }
        try bus.done()
    }
}
