import ArgumentParser

/// The device binary: the daemon (`run`) and the field technician's commands.
@main
struct Fieldproof: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldproof",
        abstract: "Reads sensors, signs every reading and publishes it to MQTT.",
        version: FieldproofVersion.string,
        subcommands: [RunCommand.self, StatusCommand.self, PairCommand.self, UnpairCommand.self, DoctorCommand.self, ScanCommand.self, ReadCommand.self, DecodeCommand.self]
    )
}

enum FieldproofVersion {
    static let string = "0.1.0"
}
