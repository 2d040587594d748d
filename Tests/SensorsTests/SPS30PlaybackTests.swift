import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SPS30 against Sensirion's datasheet (v1.0, March 2020, I2C commands) and its
/// embedded-i2c-sps30 driver (commands and waits). The datasheet has no
/// example measurement on I2C, so the reply bytes here were computed apart
/// from the driver: python3 `struct.pack('>f', v)` for the floats and
/// `struct.pack('>I', v)` for the interval, each two bytes followed by a
/// CRC-8 (poly 0x31, init 0xFF) checked against the datasheet's example
/// 0xBEEF → 0x92 (so 0x0000 → 0x81, 0x0300 → 0xAC). The product type
/// "00080000" is the datasheet's; the serial number is made up.
@Suite struct SPS30PlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Command {
        static let startMeasurement: [UInt8] = [0x00, 0x10]   // 20 ms
        static let stopMeasurement: [UInt8] = [0x01, 0x04]    // 20 ms
        static let readDataReady: [UInt8] = [0x02, 0x02]
        static let readMeasuredValues: [UInt8] = [0x03, 0x00]
        static let autoCleaningInterval: [UInt8] = [0x80, 0x04] // write 20 ms
        static let readProductType: [UInt8] = [0xD0, 0x02]
        static let readSerialNumber: [UInt8] = [0xD0, 0x33]
        static let readVersion: [UInt8] = [0xD1, 0x00]
        static let readDeviceStatus: [UInt8] = [0xD2, 0x06]
        static let clearDeviceStatus: [UInt8] = [0xD2, 0x10]
        static let reset: [UInt8] = [0xD3, 0x04]              // 100 ms
    }
    static let address: UInt16 = 0x69

    /// "00080000": 0x3030 0xF6, 0x3038 0x4F, 0x3030 0xF6, 0x3030 0xF6.
    static let productType: [UInt8] = [0x30, 0x30, 0xF6, 0x30, 0x38, 0x4F, 0x30, 0x30, 0xF6, 0x30, 0x30, 0xF6]
    /// "3A1F6C2E9B7D4051" then NULs to 32 bytes.
    static let serial: [UInt8] = [0x33, 0x41, 0x12, 0x31, 0x46, 0x5C, 0x36, 0x43, 0x07, 0x32, 0x45, 0x22, 0x39, 0x42, 0xAF, 0x37, 0x44, 0x64,
                                  0x34, 0x30, 0x75, 0x35, 0x31, 0xB0] + Array(repeating: [0x00, 0x00, 0x81], count: 8).flatMap { $0 }
    /// Ten floats 12.5, 15.25, 16, 16.5 µg/m³; 80, 95.5, 97.25, 97.5, 97.75 #/cm³; 0.5 µm.
    static let values: [UInt8] = [
        0x41, 0x48, 0x78, 0x00, 0x00, 0x81, 0x41, 0x74, 0xC0, 0x00, 0x00, 0x81, 0x41, 0x80, 0x86, 0x00, 0x00, 0x81,
        0x41, 0x84, 0x42, 0x00, 0x00, 0x81, 0x42, 0xA0, 0x2D, 0x00, 0x00, 0x81, 0x42, 0xBF, 0x40, 0x00, 0x00, 0x81,
        0x42, 0xC2, 0xF4, 0x80, 0x00, 0xA2, 0x42, 0xC3, 0xC5, 0x00, 0x00, 0x81, 0x42, 0xC3, 0xC5, 0x80, 0x00, 0xA2,
        0x3F, 0x00, 0xAA, 0x00, 0x00, 0x81,
    ]

    /// Detection, reset to Idle-Mode, interval 3600 s (0x00000E10), start in float format.
    static func start(firmware: [UInt8] = [0x02, 0x03, 0x0B], interval: [UInt8]? = [0x00, 0x00, 0x81, 0x0E, 0x10, 0xAF]) -> [Step] {
        [
            Step(address: address, write: Command.readProductType, "read product type"),
            Step(address: address, read: productType, "\"00080000\""),
            Step(address: address, write: Command.readSerialNumber, "read serial number"),
            Step(address: address, read: serial, "serial, 16 characters and NULs"),
            Step(address: address, write: Command.readVersion, "read version"),
            Step(address: address, read: firmware, "firmware major, minor"),
            Step(address: address, write: Command.reset, "device reset"),
        ]
        + (interval.map { [Step(address: address, write: Command.autoCleaningInterval + $0, "write auto cleaning interval")] } ?? [])
        + [Step(address: address, write: Command.startMeasurement + [0x03, 0x00, 0xAC], "start measurement, big-endian IEEE754 floats")]
    }

    static let ready: [Step] = [
        Step(address: address, write: Command.readDataReady, "read data-ready flag"),
        Step(address: address, read: [0x00, 0x01, 0xB0], "new measurement"),
    ]

    @Test func startsInFloatFormatAndReadsTheTenValuesInSIUnits() throws {
        let bus = PlaybackI2CBus(Self.start() + Self.ready + [
            Step(address: Self.address, write: Command.readDeviceStatus, "read device status register"),
            Step(address: Self.address, read: [0x00, 0x00, 0x81, 0x00, 0x00, 0x81], "no error"),
            Step(address: Self.address, write: Command.readMeasuredValues, "read measured values"),
            Step(address: Self.address, read: Self.values, "ten floats"),
            Step(address: Self.address, write: Command.stopMeasurement, "close: stop measurement"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: 3600, sleeper: sleeper)
        #expect(sensor.serialNumber == "3A1F6C2E9B7D4051")
        #expect(sensor.firmwareVersion.major == 2 && sensor.firmwareVersion.minor == 3)
        let readings = try sensor.read()
        sensor.close()
        try bus.done()
        #expect(readings.map(\.quantity) == ["pm1_0", "pm2_5", "pm4_0", "pm10", "pm0_5_count", "pm1_0_count", "pm2_5_count", "pm4_0_count",
                                            "pm10_count", "typical_particle_size"])
        #expect(readings.map(\.unit) == ["kg/m3", "kg/m3", "kg/m3", "kg/m3", "1/m3", "1/m3", "1/m3", "1/m3", "1/m3", "m"])
        // µg/m³ × 1e-9 = kg/m³, #/cm³ × 1e6 = 1/m³, µm × 1e-6 = m.
        let expected = [12.5e-9, 15.25e-9, 16e-9, 16.5e-9, 80e6, 95.5e6, 97.25e6, 97.5e6, 97.75e6, 0.5e-6]
        for (reading, value) in zip(readings, expected) {
            #expect(abs(reading.value - value) <= abs(value) * 1e-12, "\(reading.quantity): \(reading.value)")
            #expect(!reading.outOfRange)
        }
        // Reset 100 ms, interval write 20 ms, start 20 ms (the waits of Sensirion's embedded-i2c-sps30); stop 20 ms.
        #expect(sleeper.all.filter { $0 > 0 } == [100, 20, 20, 20])
    }

    @Test func withoutAConfiguredIntervalTheChipsOwnIsLeftAndOldFirmwareHasNoStatusRead() throws {
        let bus = PlaybackI2CBus(Self.start(firmware: [0x02, 0x01, 0x69], interval: nil) + Self.ready + [
            Step(address: Self.address, write: Command.readMeasuredValues, "read measured values"),
            Step(address: Self.address, read: Self.values, "ten floats"),
        ])
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
        #expect(try sensor.read().count == 10)
        try bus.done()
    }

    @Test func notReadyIsReportedWithoutReadingValues() throws {
        let bus = PlaybackI2CBus(Self.start() + [
            Step(address: Self.address, write: Command.readDataReady, "read data-ready flag"),
            Step(address: Self.address, read: [0x00, 0x00, 0x81], "no new measurement"),
        ])
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: 3600, sleeper: RecordingSleeper())
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .notReady }
        try bus.done()
    }

    @Test func aNaNValueIsAnErrorNotAReading() throws {
        let nan: [UInt8] = Self.values[0..<6] + [0x7F, 0xC0, 0x64, 0x00, 0x00, 0x81] + Self.values[12...]
        let bus = PlaybackI2CBus(Self.start() + Self.ready + [
            Step(address: Self.address, write: Command.readDeviceStatus),
            Step(address: Self.address, read: [0x00, 0x00, 0x81, 0x00, 0x00, 0x81]),
            Step(address: Self.address, write: Command.readMeasuredValues),
            Step(address: Self.address, read: nan, "PM2.5 is 0x7FC00000, a quiet NaN"),
        ])
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: 3600, sleeper: RecordingSleeper())
        do {
            _ = try sensor.read()
            Issue.record("a NaN was read as a value")
        } catch {
            #expect(error.code == .badValue)
            #expect(error.message.contains("PM2.5 mass concentration"), "\(error)")
        }
        try bus.done()
    }

    @Test func aFanErrorIsReportedAndTheStatusCleared() throws {
        let bus = PlaybackI2CBus(Self.start() + Self.ready + [
            Step(address: Self.address, write: Command.readDeviceStatus),
            Step(address: Self.address, read: [0x00, 0x00, 0x81, 0x00, 0x10, 0xC2], "bit 4: fan error"),
            Step(address: Self.address, write: Command.clearDeviceStatus, "clear device status register"),
        ])
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: 3600, sleeper: RecordingSleeper())
        do {
            _ = try sensor.read()
            Issue.record("read values with the fan stopped")
        } catch {
            #expect(error.code == .noData)
            #expect(error.message.contains("fan error"), "\(error)")
            #expect(error.message.contains("0x00000010"), "\(error)")
        }
        try bus.done()
    }

    @Test func valuesAboveTheDatasheetRangeAreFlagged() throws {
        // 1200, 1500, 1600, 1650 µg/m³; 3500…3900 #/cm³; 0.75 µm (struct.pack('>f', …)).
        let high: [UInt8] = [
            0x44, 0x96, 0x14, 0x00, 0x00, 0x81, 0x44, 0xBB, 0xDE, 0x80, 0x00, 0xA2, 0x44, 0xC8, 0x75, 0x00, 0x00, 0x81,
            0x44, 0xCE, 0xD3, 0x40, 0x00, 0x08, 0x45, 0x5A, 0xDA, 0xC0, 0x00, 0x2B, 0x45, 0x61, 0xF5, 0x00, 0x00, 0x81,
            0x45, 0x67, 0x53, 0x40, 0x00, 0x08, 0x45, 0x6D, 0x88, 0x80, 0x00, 0xA2, 0x45, 0x73, 0xD4, 0xC0, 0x00, 0x2B,
            0x3F, 0x40, 0x97, 0x00, 0x00, 0x81,
        ]
        let bus = PlaybackI2CBus(Self.start() + Self.ready + [
            Step(address: Self.address, write: Command.readDeviceStatus),
            Step(address: Self.address, read: [0x00, 0x20, 0x07, 0x00, 0x00, 0x81], "bit 21: fan speed warning only"),
            Step(address: Self.address, write: Command.readMeasuredValues),
            Step(address: Self.address, read: high),
        ])
        let sensor = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: 3600, sleeper: RecordingSleeper())
        let readings = try sensor.read()
        try bus.done()
        #expect(readings.map(\.outOfRange) == [true, true, true, true, true, true, true, true, true, false])
        #expect(abs(readings[0].value - 1.2e-6) < 1e-15)
    }

    @Test func aWrongProductTypeIsAWrongChip() throws {
        // "00070000" (0x3037 → CRC 0x61): not an SPS30; nothing is written to it.
        let bus = PlaybackI2CBus([
            Step(address: Self.address, write: Command.readProductType),
            Step(address: Self.address, read: [0x30, 0x30, 0xF6, 0x30, 0x37, 0x61, 0x30, 0x30, 0xF6, 0x30, 0x30, 0xF6]),
        ])
        do {
            _ = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
            Issue.record("accepted product type 00070000")
        } catch {
            #expect(error.code == .wrongChip)
            #expect(error.message.contains("\"00070000\""), "\(error)")
        }
        try bus.done()
    }
}
