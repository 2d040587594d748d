import Agent
import ArgumentParser
import Sensors
import Station
import Units

/// `fieldproof read`: every configured sensor read once, now.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read each configured sensor once and print value, unit and status.",
        discussion: """
            Exits 0 when every sensor read, 1 when any failed (each failure says why and what to check).

            Examples:
              fieldproof read
              fieldproof read --sensor air --json
              fieldproof read --simulate
            """
    )

    @OptionGroup var station: StationOptions

    @Option(help: "Read only this sensor (its `name` in the configuration).")
    var sensor: String?

    @Flag(help: "Print the readings as JSON (SI values, each with its unit).")
    var json = false

    @Option(help: "Units for the readings: display (°C, hPa, …) or si (the wire's K, Pa, … unrounded).")
    var units = UnitSystem.display

    func run() throws {
        let context = try StationContext.load(station, requireConfiguration: true)
        var specs = context.specs
        if let sensor {
            specs = specs.filter { $0.name == sensor }
            guard !specs.isEmpty else {
                throw ValidationError("no sensor named \"\(sensor)\"; configured: \(context.specs.map(\.name).joined(separator: ", "))")
            }
        }
        guard !specs.isEmpty else { throw ValidationError("no sensors are configured in \(station.config)") }
        let results = SensorSet(specs: specs, factory: SensorFactory(hardware: context.hardware, board: context.board)).readAll()
        if json {
            print(JSONText.object([
                ("board", .string(context.board.name)),
                ("hardware", .string(context.hardware.kind)),
                ("sensors", .array(results.map(Self.json))),
            ]).render())
        } else {
            let width = results.map(\.name.count).max() ?? 0
            // At least 18 (`relative_humidity `), wider for `typical_particle_size`.
            let quantities = results.flatMap { (try? $0.result.get()) ?? [] }.map(\.quantity.count).max() ?? 0
            for result in results { print(Self.text(result, nameWidth: width, quantityWidth: max(18, quantities + 1), units: units)) }
        }
        if results.contains(where: { if case .failure = $0.result { return true } else { return false } }) { throw ExitCode(1) }
    }

    static func json(_ result: SensorResult) -> JSONText {
        var pairs: [(String, JSONText)] = [("name", .string(result.name)), ("driver", .string(result.driver))]
        switch result.result {
        case let .success(readings):
            pairs.append(("status", .string("ok")))
            pairs.append(("readings", .array(readings.map { reading in
                .object([("quantity", .string(reading.quantity)), ("value", .number(reading.value)), ("unit", .string(reading.unit)),
                         ("out_of_range", .bool(reading.outOfRange)), ("settling", .bool(reading.settling))])
            })))
        case let .failure(error):
            pairs += [("status", .string("error")), ("code", .string(error.code.rawValue)), ("message", .string(error.message))]
        }
        return .object(pairs)
    }

    static func text(_ result: SensorResult, nameWidth: Int, quantityWidth: Int = 18, units: UnitSystem) -> String {
        let head = result.name.padding(nameWidth) + "  " + result.driver.padding(18)
        switch result.result {
        case let .failure(error):
            return head + "ERROR \(error.code.rawValue): \(error.message)"
        case let .success(readings):
            let indent = String(repeating: " ", count: nameWidth + 20)
            return readings.enumerated().map { index, reading in
                (index == 0 ? head : indent) + reading.quantity.padding(quantityWidth) + format(reading, units: units)
            }.joined(separator: "\n")
        }
    }

    static func format(_ reading: SensorReading, units: UnitSystem) -> String {
        var text = units.text(reading.value, unit: reading.unit, quantity: reading.quantity)
        if reading.outOfRange { text += "  OUT OF RANGE for this sensor" }
        if reading.settling { text += "  NOT SETTLED yet (gas sensor burn-in or heater off target)" }
        return text
    }
}

extension UnitSystem: ExpressibleByArgument {}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
