import Aggregator
import AggregatorStore
import ArgumentParser

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
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    func run() async throws {
        let rows = try await AggregatorContext.load(options).store.tallies(TallyQuery(serial: device, from: from, to: to))
        if json { return try Output.json(rows) }
        if csv { return print(TallyCSV.render(rows), terminator: "") }
        Output.line(pad(["DEVICE", "METRIC", "EPOCH (UTC)", "COUNT", "MIN", "MAX", "MEAN", "UNIT"], widths: [16, 26, 18, 8, 11, 11, 11, 6]))
        for row in rows {
            Output.line(pad([row.serial, row.metric, UTCText.minutes(row.epochStart), "\(row.count)", number(row.minimum), number(row.maximum),
                             number(row.mean), row.unit], widths: [16, 26, 18, 8, 11, 11, 11, 6]))
        }
    }

    private func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}
