import Agent
import ArgumentParser
import ConfigFile
import FoundationEssentials
import LinuxService
import Units

/// `fieldproof status`: what the daemon last reported, read from the status
/// file in its runtime directory (works without talking to the daemon).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show pairing, broker, sensors, spool and clock state as the daemon last reported them.",
        discussion: """
            Reads <runtime_directory>/status.json (default /run/fieldproof), which
            `fieldproof run` rewrites every second; systemd removes it when the daemon stops.

            Examples:
              fieldproof status
              fieldproof status --json | jq .spool
              fieldproof status --runtime-directory /tmp/fieldproof-demo/dev-1.run
            """
    )

    @Option(help: "The daemon's configuration (for its runtime directory).")
    var config = "/etc/fieldproof/agent.yaml"

    @Option(help: "Read the status in this runtime directory instead of the configuration's.")
    var runtimeDirectory: String?

    @Flag(help: "Print the status as JSON (SI values, each with its unit).")
    var json = false

    @Option(help: "Units for the readings: display (°C, hPa, …) or si (the wire's K, Pa, … unrounded).")
    var units = UnitSystem.display

    func run() throws {
        let directory = try runtimeDirectory ?? RuntimeDirectory.fromConfiguration(config)
        guard let status = try DeviceStatus.read(fromRuntimeDirectory: directory) else {
            FileHandleText.standardError("fieldproof: no status in \(directory): the daemon is not running (start it: systemctl start fieldproof)")
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(status), as: UTF8.self))
            return
        }
        print(StatusText.render(status, now: WallClock.milliseconds(), units: units))
    }
}

enum FileHandleText {
    /// Writes a line to standard error (fd 2; the C `stderr` global is
    /// shared mutable state to Swift 6).
    static func standardError(_ line: String, newline: Bool = true) {
        let bytes = Array((newline ? line + "\n" : line).utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}

enum TextFile {
    /// A whole (small) file as text; a failure names the path, the reason and `hint`.
    static func read(_ path: String, hint: String) throws -> String {
        guard let handle = fopen(path, "r") else {
            throw ValidationError("cannot read \(path) (\(String(cString: strerror(errno)))): \(hint)")
        }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, handle)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

enum StateDirectory {
    /// The state directory named by the daemon's configuration file.
    static func fromConfiguration(_ path: String) throws -> String {
        let text = try TextFile.read(path, hint: "pass --config")
        let root = try ConfigSection.root(text: text, file: path)
        return try root.string("state_directory", default: "/var/lib/fieldproof")
    }
}

enum RuntimeDirectory {
    /// The runtime directory named by the daemon's configuration file.
    static func fromConfiguration(_ path: String) throws -> String {
        let text = try TextFile.read(path, hint: "pass --config or --runtime-directory")
        let root = try ConfigSection.root(text: text, file: path)
        return try root.string("runtime_directory", default: "/run/fieldproof")
    }
}

/// The human-readable form of a status report.
enum StatusText {
    static func render(_ status: DeviceStatus, now: UInt64, units: UnitSystem = .display) -> String {
        var lines: [String] = []
        let identity = status.paired ? "paired (key \(status.keyID ?? "?"))" : "NOT paired: run `fieldproof pair` to pair this device"
        lines.append("device   \(status.serial): \(identity)")
        lines.append("daemon   fieldproof \(status.version), pid \(status.pid), board \(status.board ?? "unknown"), updated \(age(status.updatedAt, now)) ago")
        if now > status.updatedAt + 120_000 {
            lines.append("warning  this report is \(age(status.updatedAt, now)) old: the daemon does not seem to run (systemctl status fieldproof)")
        }
        let since = status.broker.since.map { " for \(age($0, now))" } ?? ""
        if status.broker.connected {
            lines.append("broker   \(status.broker.address) connected\(since)")
        } else {
            lines.append("broker   \(status.broker.address) NOT connected\(since): \(status.broker.lastError ?? "not tried yet")")
        }
        lines.append(status.clockSynchronised
            ? "clock    synchronised"
            : "clock    NOT synchronised (no NTP yet): readings carry the flag and are re-timed by the aggregator later")
        let spool = status.spool
        var spoolLine = "spool    \(spool.records) message(s) waiting (\(bytes(spool.bytes)))"
        if let oldest = spool.oldestAgeSeconds { spoolLine += ", oldest \(seconds(oldest))" }
        spoolLine += "; acknowledged up to \(spool.lastAcknowledged), last sequence \(status.lastSequence)"
        lines.append(spoolLine)
        if let sequences = status.sequences {
            lines.append("signed   \(sequences.signed) message(s) since sequence \(sequences.first ?? 1); \(sequences.skipped) number(s) skipped "
                + "(reserved by a run that ended before using them: never sent, not lost)")
        }
        if spool.droppedRecords > 0 || spool.truncatedTails > 0 {
            lines.append("losses   \(spool.droppedRecords) dropped (spool full), \(spool.truncatedTails) torn tail(s) truncated after power loss")
        }
        if let log = status.log { lines += logLines(log, now: now) }
        for sensor in status.sensors {
            var line = "sensor   \(sensor.name) (\(sensor.driver)): "
            let failedLast = (sensor.lastErrorAt ?? 0) > (sensor.lastReadAt ?? 0)
            if failedLast, let error = sensor.lastError {
                line += "ERROR \(error)"
            } else if let at = sensor.lastReadAt {
                line += sensor.readings.map { "\($0.quantity) \(units.text($0.value, unit: $0.unit, quantity: $0.quantity))" }.joined(separator: ", ")
                    + " (\(age(at, now)) ago)"
            } else {
                line += "not read yet"
            }
            if let pace = sensor.pace, pace.behind {
                let rate = pace.readsPerSecond.map { " it is read \(format($0)) times a second" } ?? ""
                let took = pace.lastReadMilliseconds.map { ", one read takes \($0) ms" } ?? ""
                line += "; NOT keeping its \(pace.intervalMilliseconds) ms interval:\(rate)\(took) (set `interval:` to at least that)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The device's audit of the transparency log: what is proven, and the
    /// alarm first, when there is one.
    static func logLines(_ log: DeviceStatus.Log, now: UInt64) -> [String] {
        var lines: [String] = []
        if let alarm = log.alarm {
            lines.append("ALARM    transparency log: \(alarm)\(log.alarmAt.map { " (\(age($0, now)) ago)" } ?? "")")
        }
        guard log.size > 0 else {
            return lines + ["log      no checkpoint verified yet\(log.lastSkipped.map { " (\($0))" } ?? "")"]
        }
        var line = "log      checkpoint of \(log.size) entries verified; messages proven logged up to \(log.provenSequence)"
        if let at = log.lastProvenAt { line += " (\(age(at, now)) ago)" }
        line += "; \(log.unprovenRecords) acknowledged message(s) kept until proven"
        lines.append(line)
        if log.unprovenDropped > 0 { lines.append("losses   \(log.unprovenDropped) acknowledged message(s) dropped (spool full) before any receipt proved them") }
        return lines
    }

    static func age(_ then: UInt64, _ now: UInt64) -> String {
        seconds(Double(now > then ? now - then : 0) / 1000)
    }

    static func seconds(_ value: Double) -> String {
        if value < 120 { return "\(Int(value)) s" }
        if value < 7200 { return "\(Int(value / 60)) min" }
        if value < 172_800 { return "\(Int(value / 3600)) h" }
        return "\(Int(value / 86400)) days"
    }

    static func bytes(_ count: Int) -> String {
        count < 1024 ? "\(count) B" : count < 1 << 20 ? "\(format(Double(count) / 1024)) KiB" : "\(format(Double(count) / 1_048_576)) MiB"
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}

#if canImport(Glibc)
import Glibc
#endif
