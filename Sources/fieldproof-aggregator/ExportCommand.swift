import AggregatorStore
import ArgumentParser
import Foundation
import Wire

/// `export`: every accepted message exactly as received, one JSON object
/// per line (serial, sequence, received time, SHA-256 and the COSE_Sign1
/// bytes in hex), so anyone can re-verify the tallies with their own tools.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every accepted message as received (JSON lines) for independent re-verification.",
        discussion: "Example: fieldproof-aggregator export --device fp-0001 > fp-0001.jsonl"
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this device.") var device: String?

    func run() async throws {
        let store = try await AggregatorContext.load(options).store
        try await store.exportMessages(serial: device) { message in
            print("{\"serial\":\"\(message.serial)\",\"sequence\":\(message.sequence),\"receivedAt\":\(message.receivedAt),"
                  + "\"sha256\":\"\(KeyID.hex(message.hash))\",\"cose\":\"\(KeyID.hex(message.raw))\"}")
        }
    }
}
