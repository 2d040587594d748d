import ArgumentParser
import LinuxService

/// The device binary: the daemon (`run`) and the field technician's commands.
@main
struct Fieldproof: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldproof",
        abstract: "Reads sensors, signs every reading and publishes it to MQTT.",
        version: FieldproofVersion.string,
        subcommands: [RunCommand.self, StatusCommand.self, PairCommand.self, UnpairCommand.self, DoctorCommand.self, ScanCommand.self, ReadCommand.self, DecodeCommand.self]
    )

    /// ArgumentParser's entry point, after the malloc arena cap, which must
    /// come before any thread allocates: `run` executes on a thread of the
    /// concurrency runtime, and capping there left that thread with an arena
    /// of its own (184 KiB after 20 s; now in the one heap, about as large:
    /// no saving, but the one arena the cap is for).
    static func main() async {
        GlibcMalloc.limitArenas()
        await main(nil)
    }
}

enum FieldproofVersion {
    static let string = "0.1.0"
}
