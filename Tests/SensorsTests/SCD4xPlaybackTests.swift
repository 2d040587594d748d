import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SCD4x against Sensirion's datasheet (version 1.3, September 2022): the
/// command codes of Table 9 and the examples under each command.
@Suite struct SCD4xPlaybackTests {
    typealias Step = PlaybackI2CBus.Step

    enum Command {
        static let startPeriodicMeasurement: [UInt8] = [0x21, 0xB1] // §3.5.1
        static let readMeasurement: [UInt8] = [0xEC, 0x05]          // §3.5.2
        static let stopPeriodicMeasurement: [UInt8] = [0x3F, 0x86]  // §3.5.3, 500 ms
        static let getDataReadyStatus: [UInt8] = [0xE4, 0xB8]       // §3.8.2
        static let getSerialNumber: [UInt8] = [0x36, 0x82]          // §3.9.2
    }
    static let address: UInt16 = 0x62 // Table 8

    /// Detection and start: stop any running measurement, read the serial
    /// number (§3.9.2's example: 0xf896 0x31 0x9f07 0xc2 0x3bbe 0x89 is
    /// serial 273'325'796'834'238), start periodic measurement.
    static let start: [Step] = [
        Step(address: address, write: Command.stopPeriodicMeasurement, "stop_periodic_measurement"),
        Step(address: address, write: Command.getSerialNumber, "get_serial_number"),
        Step(address: address, read: [0xF8, 0x96, 0x31, 0x9F, 0x07, 0xC2, 0x3B, 0xBE, 0x89], "serial, datasheet example"),
        Step(address: address, write: Command.startPeriodicMeasurement, "start_periodic_measurement"),
    ]

    /// §3.5.2's example, "read sensor output (500 ppm, 25 °C, 37 % RH)":
    /// 0x01f4 0x33 0x6667 0xa2 0x5eb9 0x3c. CO₂ = word[0] ppm,
    /// T = −45 + 175·word[1]/(2^16 − 1) = 25.003 °C, RH = 100·word[2]/(2^16 − 1) = 37.002 %.
    /// The data-ready word 0x8006 is ours: §3.8.2 says data is ready when
    /// its 11 least significant bits are not all 0.
    @Test func theDatasheetsExampleMeasurement() throws {
        let bus = PlaybackI2CBus(Self.start + [
            Step(address: Self.address, write: Command.getDataReadyStatus, "get_data_ready_status"),
            Step(address: Self.address, read: [0x80, 0x06, 0x04], "ready: low 11 bits 0x006"),
            Step(address: Self.address, write: Command.readMeasurement, "read_measurement"),
            Step(address: Self.address, read: [0x01, 0xF4, 0x33, 0x66, 0x67, 0xA2, 0x5E, 0xB9, 0x3C], "datasheet example"),
        ])
        let sleeper = RecordingSleeper()
        let sensor = try SCD4x(name: "co2", device: I2CDevice(bus: bus, address: Self.address), sleeper: sleeper)
        #expect(sensor.serialNumber == 273_325_796_834_238)
        let readings = try sensor.read()
        try bus.done()
        #expect(readings[0] == SensorReading(quantity: "carbon_dioxide", value: 500, unit: "ppm"))
        #expect(abs(readings[1].value - 273.15 - 25.0027) < 1e-4)
        #expect(abs(readings[2].value - 37.0016) < 1e-4)
        // 500 ms after stop_periodic_measurement before the next command (§3.5.3), 1 ms execution time of each read.
        #expect(sleeper.all == [500, 1, 1, 1])
    }

    /// Data not ready (low 11 bits 0, word 0x8000, CRC 0xa2): no
    /// read_measurement, which the sensor would NACK with an empty buffer.
    @Test func notReadyIsReportedWithoutReadingTheEmptyBuffer() throws {
        let bus = PlaybackI2CBus(Self.start + [
            Step(address: Self.address, write: Command.getDataReadyStatus, "get_data_ready_status"),
            Step(address: Self.address, read: [0x80, 0x00, 0xA2], "not ready"),
        ])
        let sensor = try SCD4x(name: "co2", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
        do {
            _ = try sensor.read()
            Issue.record("a reading without data")
        } catch {
            #expect(error.message.contains("no new measurement yet"))
        }
        try bus.done()
    }
}
