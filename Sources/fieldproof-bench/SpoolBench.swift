import Agent
import ArgumentParser
import Foundation

/// Durable spool appends/s with per-record fsync and with group commit,
/// each beside a baseline in the same run and directory: the same bytes
/// appended with `write` + `fdatasync` per record (per-record case) or with
/// plain `write` and one fsync per interval (group case).
struct SpoolBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spool", abstract: "Spool appends/s (per-record fsync and group commit) vs raw writes.")

    @Option(help: "Records per per-record-fsync measurement.") var synced = 2_000
    @Option(help: "Records per group-commit measurement.") var grouped = 100_000
    @Option(help: "Directory to write in (its file system is what is measured).") var directory = "/var/tmp"

    func run() throws {
        let payload = [UInt8](repeating: 0xA5, count: 360) // a signed Telemetry with 6 readings is about this size
        let root = directory + "/fieldproof-spool-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }

        for (name, durability, count) in [("per-record fsync", SpoolDurability.everyRecord, synced),
                                          ("group commit 200 ms", .groupCommit(milliseconds: 200), grouped)] {
            let spoolDirectory = root + "/spool-\(count)"
            try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
            let spool = try Spool(configuration: SpoolConfiguration(directory: spoolDirectory, maximumBytes: 1 << 30, segmentBytes: 16 << 20,
                                                                    durability: durability))
            let ours = try rate(count) { sequence in _ = try spool.append(sequence: UInt64(sequence), payload: payload) }
            try spool.sync()

            let path = root + "/raw-\(count)"
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            defer { close(fd) }
            var lastSync = ContinuousClock.now
            let raw = try rate(count) { _ in
                _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if case .everyRecord = durability {
                    fdatasync(fd)
                } else if ContinuousClock.now - lastSync > .milliseconds(200) {
                    fsync(fd)
                    lastSync = ContinuousClock.now
                }
            }
            print("\(name): spool \(Int(ours)) appends/s, raw write\(durability == .everyRecord ? "+fdatasync" : "") \(Int(raw))/s, ratio \(String(format: "%.2f", ours / raw))")
        }
    }

    func rate(_ count: Int, _ body: (Int) throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        for index in 1...count { try body(index) }
        let elapsed = ContinuousClock.now - start
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
