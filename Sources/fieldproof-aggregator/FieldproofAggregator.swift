import ArgumentParser
import LinuxService

/// The aggregator: `serve` runs the service; the other commands are the
/// operator's, working on the same store (SQLite allows them beside a
/// running service).
@main
struct FieldproofAggregator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldproof-aggregator",
        abstract: "Verifies signed readings from Fieldproof devices, tallies them and serves the tallies.",
        discussion: """
            Examples:
              fieldproof-aggregator serve --config /etc/fieldproof/aggregator.yaml
              fieldproof-aggregator enroll --serial fp-0001 --expires 24h
              fieldproof-aggregator devices list
              fieldproof-aggregator tally --device fp-0001 --csv
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, EnrollCommand.self, DevicesCommand.self, TallyCommand.self, ExportCommand.self, LogCommand.self, AuditCommand.self]
    )

    /// ArgumentParser's own entry point, after one thing that must come
    /// before any thread starts: glibc makes an arena for each new thread
    /// until the cap is set (see `GlibcMalloc`).
    static func main() async {
        GlibcMalloc.limitArenas()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// `--config`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(help: "The aggregator's configuration file.")
    var config = "/etc/fieldproof/aggregator.yaml"
}
