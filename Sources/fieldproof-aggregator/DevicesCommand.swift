import Aggregator
import AggregatorStore
import ArgumentParser
import LinuxService

/// `devices list|show|revoke`.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List, show or revoke devices.",
        subcommands: [List.self, Show.self, Revoke.self, Reinstate.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per device: key, counts, last seen.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let devices = try await AggregatorContext.load(options).store.devices()
            if json { return try Output.json(devices) }
            Output.line(pad(["SERIAL", "KEY", "ACCEPTED", "REDELIVERED", "REJECTED", "CONTIGUOUS", "COVERAGE", "LAST SEEN", "STATE"]))
            for device in devices {
                Output.line(pad([device.serial, device.keyID.map { String($0.prefix(12)) } ?? "-", "\(device.accepted)",
                                 "\(device.redelivered)", "\(device.rejected.values.reduce(0, +))", "\(device.highestContiguous)",
                                 device.coverage.map { "\(Int(($0 * 100).rounded()))%" } ?? "-",
                                 device.lastSeen.map(UTCText.seconds) ?? "-", device.revoked ? "revoked" : device.keyID == nil ? "enrolled" : "paired"]))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Everything known about one device.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The device's serial.") var serial: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let device = try await AggregatorContext.load(options).store.device(serial: serial) else {
                Output.error("no device \(serial): enroll it with `fieldproof-aggregator enroll --serial \(serial)`")
                throw ExitCode(1)
            }
            if json { return try Output.json(device) }
            Output.line("serial:             \(device.serial)")
            Output.line("state:              \(device.revoked ? "revoked" : device.keyID == nil ? "enrolled, not paired" : "paired")")
            Output.line("key id:             \(device.keyID ?? "-")")
            Output.line("paired at:          \(device.pairedAt.map(UTCText.seconds) ?? "-")")
            Output.line("accepted:           \(device.accepted)")
            // Sent again for want of an ack: acknowledged again, not rejected.
            Output.line("redelivered:        \(device.redelivered)")
            Output.line("highest contiguous: \(device.highestContiguous)")
            Output.line("first / last seen:  \(device.firstSeen.map(UTCText.seconds) ?? "-") / \(device.lastSeen.map(UTCText.seconds) ?? "-")")
            Output.line("coverage:           \(device.coverage.map { "\(Int(($0 * 100).rounded()))%" } ?? "-")")
            let rejected = device.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Output.line("rejected:           \(rejected.isEmpty ? "none" : rejected)")
            // Messages the store could not commit, kept whole (GET /api/v1/dead-letters).
            Output.line("dead-lettered:      \(device.deadLettered)")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refuse everything a device sends from now on; its keys are retired and pending PINs cancelled.",
            discussion: "To trust the serial again: `devices reinstate S`, then `enroll --serial S` and pair the device anew.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The device's serial.") var serial: String

        func run() async throws {
            let context = try await AggregatorContext.load(options)
            guard try await context.store.revoke(serial: serial, at: Int64(WallClock.milliseconds()), logKey: context.signingKey()) else {
                Output.error("no device \(serial)")
                throw ExitCode(1)
            }
            Output.line("revoked \(serial): its messages are now rejected as revoked_key, its pending PINs no longer pair; to trust it again run `devices reinstate \(serial)`, then enroll it")
        }
    }

    struct Reinstate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a revocation so the serial can be enrolled and paired again (its old keys stay retired).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The device's serial.") var serial: String

        func run() async throws {
            let context = try await AggregatorContext.load(options)
            guard try await context.store.reinstate(serial: serial, at: Int64(WallClock.milliseconds()), logKey: context.signingKey()) else {
                Output.error("\(serial) is not revoked")
                throw ExitCode(1)
            }
            Output.line("reinstated \(serial): enroll it (`fieldproof-aggregator enroll --serial \(serial)`) and pair the device again")
        }
    }
}

/// Columns padded to a common width.
func pad(_ cells: [String], widths: [Int] = [16, 14, 10, 10, 12, 10, 21, 10]) -> String {
    zip(cells, widths + Array(repeating: 12, count: max(0, cells.count - widths.count)))
        .map { $0.0.count >= $0.1 ? $0.0 + " " : $0.0 + String(repeating: " ", count: $0.1 - $0.0.count) }
        .joined().trimmingCharacters(in: .whitespaces)
}

import Foundation
