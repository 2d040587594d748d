import Aggregator
import AggregatorStore
import ArgumentParser
import Units

/// `tally`: per device, metric and epoch: count, min, max, mean.
struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Print tallies per device, metric and epoch.",
        discussion: "Example: fieldproof-aggregator tally --device fp-0001 --from 1795557600000 --csv"
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this device.") var device: String?
    @Option(help: "Epochs starting at or after this time (Unix ms).") var from: Int64?
    @Option(help: "Epochs starting before this time (Unix ms).") var to: Int64?
    @Flag(help: "Print JSON (SI values, each with its unit).") var json = false
    @Flag(help: "Print CSV.") var csv = false
    @Option(help: "Units: display (°C, hPa, …; the table's default) or si (the stored values unrounded; the CSV's default).")
    var units: UnitSystem?

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        if json && units == .display { throw ValidationError("JSON keeps SI values with their units; --units display is for the table and --csv") }
    }

    func run() async throws {
        let rows = try await AggregatorContext.load(options).store.tallies(TallyQuery(serial: device, from: from, to: to))
        if json { return try Output.json(rows) }
        if csv { return print(TallyCSV.render(rows, units: units ?? .si), terminator: "") }
        let widths = [16, 26, 18, 8, 11, 11, 11, 6]
        Output.line(pad(["DEVICE", "METRIC", "EPOCH (UTC)", "COUNT", "MIN", "MAX", "MEAN", "UNIT"], widths: widths))
        for row in rows {
            let values: [String]
            let unit: String
            switch units ?? .display {
            case .display:
                let shown = DisplayUnit.forSI(row.unit, quantity: row.quantity)
                values = [shown.number(row.minimum), shown.number(row.maximum), shown.number(row.mean)]
                unit = shown.symbol
            case .si:
                values = [String(row.minimum), String(row.maximum), String(row.mean)]
                unit = row.unit
            }
            Output.line(pad([row.serial, row.metric, UTCText.minutes(row.epochStart), "\(row.count)"] + values + [unit], widths: widths))
        }
    }
}

extension UnitSystem: ExpressibleByArgument {}
