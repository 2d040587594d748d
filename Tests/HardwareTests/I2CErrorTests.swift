import Hardware
import SimulatedHardware
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct I2CErrorTests {
    /// The kernel's I2C fault codes (Documentation/i2c/fault-codes.rst).
    @Test func errnoMapsToKinds() {
        #expect(I2CError.kind(forErrno: ENXIO) == .noAcknowledgeAddress)
        #expect(I2CError.kind(forErrno: EREMOTEIO) == .noAcknowledgeAddress)
        // i2c-stub under a real kernel (scripts/hil) answers an empty address with ENODEV.
        #expect(I2CError.kind(forErrno: ENODEV) == .noAcknowledgeAddress)
        #expect(I2CError.kind(forErrno: EAGAIN) == .arbitrationLoss)
        for code in [EIO, EBUSY, EINVAL, ETIMEDOUT] { #expect(I2CError.kind(forErrno: code) == .bus) }
        #expect(I2CError.kind(forErrno: EACCES) == .permissionDenied)
    }

    @Test func noAcknowledgeNamesAddressAndBus() {
        let error = I2CError(kind: .noAcknowledgeAddress, bus: "/dev/i2c-1", address: 0x76, errno: ENXIO, detail: "")
        #expect(error.description.hasPrefix("no acknowledge from 0x76 on /dev/i2c-1"))
    }

    @Test func aMissingBusSaysHowToEnableI2C() {
        #expect {
            _ = try LinuxI2CBus(number: 97)
        } throws: { error in
            guard let error = error as? I2CError else { return false }
            return error.kind == .missingBus && error.description.contains("dtparam=i2c_arm=on") && error.description.contains("raspi-config")
                && error.description.contains("modprobe i2c-dev")
        }
    }

    @Test func aNonAdapterFileIsRefused() {
        #expect {
            _ = try LinuxI2CBus(number: 0, path: "/dev/null")
        } throws: { error in
            (error as? I2CError)?.description.contains("is not an I2C adapter") == true
        }
    }

    @Test func derivedHelpersRunOnTheOneTransaction() throws {
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME280(), at: 0x76)
        let recording = RecordingI2CBus(bus)
        #expect(try recording.readByteData(address: 0x76, register: 0xD0) == 0x60)
        #expect(try I2CDevice(bus: recording, address: 0x76).readRegisters(0x88, count: 2) == [0x70, 0x6B]) // dig_T1 = 27504
        #expect(recording.steps.count == 2)
    }

    @Test func removedAndReaddedChips() throws {
        let bus = SimulatedI2CBus()
        let chip = SimulatedBME280()
        bus.attach(chip, at: 0x76)
        bus.detach(at: 0x76)
        #expect { try bus.readByteData(address: 0x76, register: 0xD0) } throws: { ($0 as? I2CError)?.kind == .noAcknowledgeAddress }
        bus.attach(chip, at: 0x76)
        #expect(try bus.readByteData(address: 0x76, register: 0xD0) == 0x60)
    }
}
