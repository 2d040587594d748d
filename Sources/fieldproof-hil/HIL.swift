import Hardware
import Sensors
import SimulatedHardware
#if canImport(Glibc)
import Glibc
#endif

/// Runs inside the HIL guest (scripts/hil): a real kernel with `i2c-stub`
/// at 0x76. Fills the stub's registers with what a BME280 holds (from our
/// datasheet-true simulator), then reads it with the real driver through
/// `LinuxI2CBus` over the kernel's `/dev/i2c-N`, checks the errors a
/// technician would see, and measures CPU time per read. Prints
/// `HIL PASS` or `HIL FAIL: …` for the test that boots it.
@main
struct HIL {
    struct Failure: Error { var message: String }

    static func main() {
        do {
            try run()
            print("HIL PASS")
        } catch let failure as Failure {
            print("HIL FAIL: \(failure.message)")
        } catch {
            print("HIL FAIL: \(error)")
        }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(message: message()) }
    }

    /// The bus number of the adapter named "SMBus stub driver".
    static func stubBus() throws -> Int {
        for number in 0..<32 {
            guard let file = fopen("/sys/class/i2c-dev/i2c-\(number)/name", "r") else { continue }
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 128)
            guard fgets(&buffer, 128, file) != nil else { continue }
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if name.hasPrefix("SMBus stub driver") { return number }
        }
        throw Failure(message: "no i2c-stub adapter in /sys/class/i2c-dev (modprobe i2c-stub chip_addr=0x76 and i2c-dev)")
    }

    struct NoSleep: Sleeper { func sleep(milliseconds: Double) {} }

    static func run() throws {
        let number = try stubBus()
        let bus = try LinuxI2CBus(number: number)
        print("bus \(bus.name): functionality 0x\(String(bus.functionality, radix: 16)), plain I2C \(bus.supportsPlainI2C)")
        try check(!bus.supportsPlainI2C, "i2c-stub should not offer plain I2C (I2C_FUNC_I2C)")

        // The reference: the driver against the simulator.
        let simulated = SimulatedI2CBus()
        simulated.attach(SimulatedBME280(celsius: 23.4, humidity: 51.2, hectopascal: 987.6), at: 0x76)
        let reference = try BME280(name: "air", device: I2CDevice(bus: simulated, address: 0x76), expected: .bme280, sleeper: NoSleep()).read()

        // Copy the simulator's register map (0x88–0xFF) into the stub with SMBus byte writes.
        let registers = try I2CDevice(bus: simulated, address: 0x76).readRegisters(0x88, count: 0x100 - 0x88)
        for (index, value) in registers.enumerated() {
            try bus.writeByteData(address: 0x76, register: UInt8(0x88 + index), value: value)
        }
        try check(try bus.readByteData(address: 0x76, register: 0xD0) == 0x60, "chip-id did not read back as 0x60")

        let sensor = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: NoSleep())
        let readings = try sensor.read()
        print("read through \(bus.name): " + readings.map { "\($0.quantity)=\($0.value) \($0.unit)" }.joined(separator: ", "))
        try check(readings == reference, "kernel path read \(readings), simulator path \(reference)")
        try check(abs(readings[0].value - (23.4 + 273.15)) < 0.01, "temperature \(readings[0].value) K is not 23.4 °C")

        // What a technician sees: nothing at 0x77, and a BMP280 configured for a BME280.
        do {
            _ = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x77), expected: .bme280, sleeper: NoSleep())
            throw Failure(message: "0x77 answered")
        } catch let error as SensorError {
            print("0x77: \(error.message)")
            try check(error.code == .noAcknowledge && error.message.contains("no acknowledge from 0x77"), "wrong error for 0x77: \(error)")
        }
        try bus.writeByteData(address: 0x76, register: 0xD0, value: 0x58)
        do {
            _ = try BME280(name: "air", device: I2CDevice(bus: bus, address: 0x76), expected: .bme280, sleeper: NoSleep())
            throw Failure(message: "a BMP280 chip-id was accepted as a BME280")
        } catch let error as SensorError {
            print("chip-id 0x58: \(error.message)")
            try check(error.code == .wrongChip, "wrong error for a BMP280: \(error)")
        }
        try bus.writeByteData(address: 0x76, register: 0xD0, value: 0x60)

        // Benchmark: CPU time per read through the kernel.
        let reads = 2000
        var before = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        for _ in 0..<reads { _ = try sensor.read() }
        var after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &after)
        func micros(_ time: timeval) -> Double { Double(time.tv_sec) * 1e6 + Double(time.tv_usec) }
        let user = (micros(after.ru_utime) - micros(before.ru_utime)) / Double(reads)
        let system = (micros(after.ru_stime) - micros(before.ru_stime)) / Double(reads)
        let recording = RecordingI2CBus(simulated)
        _ = try BME280(name: "air", device: I2CDevice(bus: recording, address: 0x76), expected: .bme280, sleeper: NoSleep()).read()
        print("bench: \(reads) BME280 reads via \(bus.name) (\(recording.steps.count) bus transactions each): user \(format2(user)) µs + system \(format2(system)) µs CPU per read")
    }

    static func format2(_ value: Double) -> String { String((value * 100).rounded() / 100) }
}
