import Agent
import ArgumentParser
import Hardware
import Sensors
import Station

/// `fieldproof scan`: which addresses answer on an I2C bus, and which chips
/// they are.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List the I2C addresses that answer and name the chips found.",
        discussion: """
            Each address 0x08–0x77 gets one read-only probe (as `i2cdetect -r`); only addresses \
            where a supported chip lives get that chip's identification read. Nothing is written \
            to an unknown device.

            Examples:
              fieldproof scan
              fieldproof scan --bus 3 --json
              fieldproof scan --simulate
            """
    )

    @OptionGroup var station: StationOptions

    @Option(help: "The bus number (/dev/i2c-N); default: the board's first I2C bus.")
    var bus: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let context = try StationContext.load(station, requireConfiguration: false)
        let number = bus ?? context.board.i2c.first?.bus ?? 1
        let found: [ScannedDevice]
        let busName: String
        do {
            let i2c = try context.hardware.i2cBus(number)
            busName = i2c.name
            found = try BusScanner(bus: i2c, sleeper: context.hardware.sleeper).scan()
        } catch {
            if error.kind == .missingBus, context.hardware.kind == "linux", !context.board.enableI2C.isEmpty {
                FileHandleText.standardError("fieldproof: \(error.bus) does not exist: I2C is not enabled. On \(context.board.description): \(context.board.enableI2C)")
            } else {
                FileHandleText.standardError("fieldproof: \(error)")
            }
            throw ExitCode(1)
        }
        // DS18B20 probes the kernel's 1-Wire master found (w1-gpio), by ROM id.
        let probes = DS18B20.probes(root: context.hardware.oneWireRoot)
        // Devices the kernel's Industrial I/O drivers made (dtoverlay=i2c-sensor,…), by directory and name.
        let iio = IIO.devices(root: context.hardware.iioRoot)
        if json {
            print(JSONText.object([
                ("bus", .string(busName)),
                ("board", .string(context.board.name)),
                ("devices", .array(found.map { device in
                    .object([("address", .string("0x" + I2CError.hex(device.address))), ("chip", device.identity.map(JSONText.string) ?? .null)])
                })),
                ("oneWire", .array(probes.map { .object([("rom", .string($0)), ("chip", .string("DS18B20"))]) })),
                ("iio", .array(iio.map { .object([("directory", .string($0.directory)), ("name", .string($0.name))]) })),
            ]).render())
            return
        }
        print("\(busName) on \(context.board.description): read-only probe of 0x08–0x77")
        for device in found {
            print("  0x\(I2CError.hex(device.address))  \(device.identity ?? "unknown device")")
        }
        print(found.isEmpty
            ? "no device answered: check power (3.3 V), ground, SDA on pin \(context.board.i2c.first?.sdaPin.map(String.init) ?? "?") and SCL on pin \(context.board.i2c.first?.sclPin.map(String.init) ?? "?")"
            : "\(found.count) device(s)")
        if !probes.isEmpty {
            print("1-Wire (\(context.hardware.oneWireRoot)):")
            for rom in probes { print("  \(rom)  DS18B20 (set `rom: \(rom)`)") }
        }
        if !iio.isEmpty {
            print("IIO (\(context.hardware.iioRoot)):")
            for device in iio { print("  \(device.directory)  \(device.name) (driver `iio`, set `device: \(device.name)`)") }
        }
    }
}
