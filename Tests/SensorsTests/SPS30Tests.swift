import Hardware
import Sensors
import SimulatedHardware
import Testing

/// SPS30 on the simulated chip: what the driver leaves the chip doing, and
/// each way a read fails.
@Suite struct SPS30Tests {
    static let address: UInt16 = 0x69

    func sensor(_ chip: SimulatedSPS30, interval: UInt32? = nil) throws -> (SPS30, SimulatedI2CBus) {
        let bus = SimulatedI2CBus()
        bus.attach(chip, at: Self.address)
        return (try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), cleaningInterval: interval, sleeper: RecordingSleeper()), bus)
    }

    @Test func measuresWhileOpenAndStopsOnClose() throws {
        let chip = SimulatedSPS30(.init(mass: [3, 5.5, 6, 6.25], number: [20, 25, 26, 26.5, 26.75], typicalSize: 0.625))
        let (sensor, _) = try sensor(chip, interval: 86_400)
        #expect(chip.isMeasuring)
        #expect(chip.cleaningInterval == 86_400)
        #expect(try sensor.cleaningInterval() == 86_400)
        #expect(sensor.serialNumber == chip.serialNumber)
        let readings = try sensor.read()
        #expect(abs(readings[1].value - 5.5e-9) < 1e-18, "PM2.5 5.5 µg/m³")
        #expect(abs(readings[8].value - 26.75e6) < 1e-3, "PM10 count 26.75 #/cm³")
        #expect(abs(readings[9].value - 0.625e-6) < 1e-15)
        sensor.close()
        #expect(!chip.isMeasuring)
    }

    @Test func theChipsOwnIntervalIsKeptUnlessConfigured() throws {
        let chip = SimulatedSPS30()
        _ = try sensor(chip)
        #expect(chip.cleaningInterval == SPS30.defaultCleaningInterval)
    }

    @Test func aRestartFindsItMeasuringAndStartsAgain() throws {
        let chip = SimulatedSPS30()
        let (first, bus) = try sensor(chip)
        _ = first // not closed: the daemon was killed
        let second = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
        #expect(chip.resets == 2)
        #expect(try second.read().count == 10)
    }

    @Test func notReadyUntilTheNextMeasurement() throws {
        let chip = SimulatedSPS30(alwaysReady: false)
        let (sensor, _) = try sensor(chip)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .notReady }
        chip.markMeasurementReady()
        #expect(try sensor.read().count == 10)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .notReady }
    }

    @Test func aLaserErrorIsReportedOnceClearedAndReadsResume() throws {
        let chip = SimulatedSPS30()
        let (sensor, _) = try sensor(chip)
        chip.setStatus(1 << 5)
        do {
            _ = try sensor.read()
            Issue.record("read values with a laser error")
        } catch {
            #expect(error.code == .noData)
            #expect(error.message.contains("laser error"), "\(error)")
        }
        #expect(chip.status == 0, "cleared, so a lasting fault shows again by being set again")
        #expect(try sensor.read().count == 10)
    }

    @Test func theFanSpeedWarningAloneLeavesReadingsValid() throws {
        let chip = SimulatedSPS30()
        let (sensor, _) = try sensor(chip)
        chip.setStatus(1 << 21)
        #expect(try sensor.read().count == 10)
    }

    @Test func infiniteAndNegativeValuesAreErrors() throws {
        let chip = SimulatedSPS30()
        let (sensor, _) = try sensor(chip)
        chip.set(.init(mass: [1, 2, 3, .infinity], number: [1, 1, 1, 1, 1], typicalSize: 0.5))
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .badValue && "\($0)".contains("PM10 mass") }
        chip.set(.init(mass: [1, 2, 3, 4], number: [1, 1, 1, 1, 1], typicalSize: -0.5))
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .badValue && "\($0)".contains("typical particle size") }
    }

    @Test func badCRCsAreRetriedThenReported() throws {
        let chip = SimulatedSPS30()
        let (sensor, _) = try sensor(chip)
        chip.corruptNextReplies(2)
        #expect(try sensor.read().count == 10, "two bad replies, the third attempt succeeds")
        chip.corruptNextReplies(100)
        #expect { try sensor.read() } throws: { ($0 as? SensorError)?.code == .crc }
    }

    @Test func detectionWithBadCRCsIsAWrongChip() {
        let chip = SimulatedSPS30()
        chip.corruptNextReplies(3)
        #expect { _ = try sensor(chip) } throws: { ($0 as? SensorError)?.code == .wrongChip }
        #expect(!chip.isMeasuring, "nothing is written to a chip that is not known to be an SPS30")
        #expect(chip.resets == 0)
    }

    @Test func aRegisterChipAtTheAddressIsAWrongChip() {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(), at: Self.address)
        #expect { _ = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper()) } throws: {
            ($0 as? SensorError)?.code == .wrongChip
        }
    }

    @Test func nothingAtTheAddressSaysHowToPutItOnI2C() {
        let bus = SimulatedI2CBus()
        do {
            _ = try SPS30(name: "pm", device: I2CDevice(bus: bus, address: Self.address), sleeper: RecordingSleeper())
            Issue.record("detected an SPS30 on an empty bus")
        } catch {
            #expect(error.code == .noAcknowledge)
            #expect(error.message.contains("SEL"), "\(error)")
        }
    }

    @Test func fanCleaningOnRequest() throws {
        let chip = SimulatedSPS30()
        let (sensor, _) = try sensor(chip)
        try sensor.startFanCleaning()
        #expect(chip.fanCleanings == 1)
    }
}
