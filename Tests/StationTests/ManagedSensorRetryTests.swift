import ConfigFile
import Hardware
import Sensors
import SimulatedStation
import Station
import Synchronization
import Testing

/// The simulated station's bus, with the next transactions made to fail
/// with a chosen kind; counts how often a bus is opened, which is how often
/// a driver was made (detected).
final class FaultInjectingHardware: HardwareAccess {
    let station = SimulatedStation(weather: false, sleeper: NoSleep())
    private let state = Mutex<(faults: [I2CErrorKind], opens: Int)>(([], 0))

    var kind: String { station.kind }
    var thermalRoot: String { station.thermalRoot }
    var sleeper: any Sleeper { station.sleeper }
    var opens: Int { state.withLock { $0.opens } }

    /// The next `count` transactions fail with `kind`.
    func fail(_ kind: I2CErrorKind, times count: Int) {
        state.withLock { $0.faults = Array(repeating: kind, count: count) }
    }

    func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus {
        state.withLock { $0.opens += 1 }
        return FaultingBus(base: station.bus, hardware: self)
    }

    func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip { try station.gpioChip(descriptor) }

    fileprivate func takeFault() -> I2CErrorKind? {
        state.withLock { $0.faults.isEmpty ? nil : $0.faults.removeFirst() }
    }
}

private final class FaultingBus: I2CBus {
    let base: any I2CBus
    let hardware: FaultInjectingHardware
    var name: String { base.name }

    init(base: any I2CBus, hardware: FaultInjectingHardware) {
        self.base = base
        self.hardware = hardware
    }

    func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]] {
        if let kind = hardware.takeFault() { throw I2CError(kind: kind, bus: name, address: address, detail: "injected \(kind)") }
        return try base.transaction(address: address, operations)
    }

    func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8 { try base.readByteData(address: address, register: register) }
    func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError) {
        try base.writeByteData(address: address, register: register, value: value)
    }
    func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16 { try base.readWordData(address: address, register: register) }
    func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        try base.readBlockData(address: address, register: register, count: count)
    }
    func receiveByte(address: UInt16) throws(I2CError) -> UInt8 { try base.receiveByte(address: address) }
}

/// Retries and re-detection are decided by the failure's kind
/// (`SensorError.Code`), not by its spelling.
@Suite struct ManagedSensorRetryTests {
    let board = Board(name: "raspberry-pi-4b", description: "Raspberry Pi 4 Model B", model: "Raspberry Pi 4 Model B",
                      gpioChip: "simulated", i2c: [.init(bus: 1, sdaPin: 3, sclPin: 5)], enableI2C: "dtparam=i2c_arm=on",
                      pins: [11: 17], file: "boards/raspberry-pi-4b.yaml")

    /// A light sensor that has read once (its driver is made), then meets
    /// one failing transaction of `kind` and is read again.
    func readAfterOneFault(_ kind: I2CErrorKind) throws -> (result: SensorResult, hardware: FaultInjectingHardware) {
        let hardware = FaultInjectingHardware()
        let sensor = ManagedSensor(spec: SensorSpec(name: "light", driver: "bh1750"), factory: SensorFactory(hardware: hardware, board: board))
        _ = try sensor.read().result.get()
        #expect(hardware.opens == 1)
        hardware.fail(kind, times: 1)
        return (sensor.read(), hardware)
    }

    @Test(arguments: [
        (I2CErrorKind.noAcknowledgeAddress, SensorError.Code.noAcknowledge),
        (.noAcknowledgeData, .noAcknowledge),
        (.bus, .bus),
        (.arbitrationLoss, .bus),
    ])
    func aGlitchOnTheBusIsTriedAgainWithinTheRead(kind: I2CErrorKind, code: SensorError.Code) throws {
        #expect(code.isTransient)
        let (result, hardware) = try readAfterOneFault(kind)
        #expect(result.attempts == 2, "\(code) is tried again")
        #expect(try result.result.get() == [SensorReading(quantity: "illuminance", value: 812.5, unit: "lx")])
        #expect(hardware.opens == 2, "after \(code) the chip is detected afresh")
    }

    @Test(arguments: [
        (I2CErrorKind.permissionDenied, SensorError.Code.permission),
        (.unsupported, .unsupported),
    ])
    func aFailureThatWouldRepeatIsNotTriedAgain(kind: I2CErrorKind, code: SensorError.Code) throws {
        #expect(!code.isTransient)
        let (result, hardware) = try readAfterOneFault(kind)
        #expect(result.attempts == 1)
        guard case let .failure(error) = result.result else { Issue.record("\(kind) was retried into a reading"); return }
        #expect(error.code == code)
        #expect(hardware.opens == 1, "the driver is kept: \(code) does not mean the chip went away")
    }

    @Test func aTransientFailureIsTriedOnlyAsOftenAsAllowed() throws {
        let hardware = FaultInjectingHardware()
        let sensor = ManagedSensor(spec: SensorSpec(name: "light", driver: "bh1750"), factory: SensorFactory(hardware: hardware, board: board))
        _ = try sensor.read().result.get()
        hardware.fail(.bus, times: 10)
        let result = sensor.read(attempts: 3)
        #expect(result.attempts == 3)
        guard case let .failure(error) = result.result else { Issue.record("read through ten failing transactions"); return }
        #expect(error.code == .bus)
    }

    /// Re-declared apart from the source, like a register map: a kind moved
    /// between the sets fails here and must be decided on purpose.
    @Test func onlyGlitchesAreTransientAndOnlyAVanishedChipIsDetectedAgain() {
        #expect(Set(SensorError.Code.allCases.filter(\.isTransient)) == [.bus, .crc, .noAcknowledge])
        #expect(Set(SensorError.Code.allCases.filter(\.needsRedetection)) == [.bus, .noAcknowledge, .wrongChip, .noBus])
    }
}
