import Agent
import ArgumentParser
import Identity
import MQTT
import Station
import Wire

/// `fieldproof doctor`: every check a technician would otherwise do by
/// hand, one line each (pass / warn / fail, with the fix). Exits 1 when
/// anything fails.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check configuration, I2C, GPIO, board, sensors, broker, clock, pairing, spool and the systemd unit.",
        discussion: """
            Exit status: 0 when nothing fails (warnings allowed), 1 otherwise.

            Examples:
              fieldproof doctor
              fieldproof doctor --json | jq '.[] | select(.status != "pass")'
            """
    )

    @OptionGroup var station: StationOptions

    @Option(help: "Seconds to wait for the broker.")
    var timeout = 5

    @Flag(help: "Print the checks as JSON.")
    var json = false

    struct Check {
        enum Status: String { case pass, warn, fail }
        var name: String
        var status: Status
        var detail: String
        var fix: String?
    }

    /// The checks so far.
    final class Report {
        var checks: [Check] = []
        func add(_ name: String, _ status: Check.Status, _ detail: String, fix: String? = nil) {
            checks.append(Check(name: name, status: status, detail: detail, fix: fix))
        }
    }

    func run() async throws {
        let report = Report()

        let configuration: AgentConfiguration
        do {
            configuration = try StationContext.parseConfiguration(station.config)
            report.add("config", .pass, "\(station.config) is valid")
        } catch {
            report.add("config", .fail, "\(error)", fix: "correct the line named above (commented example: config/agent.yaml)")
            return try finish(report.checks)
        }
        let simulate = station.simulate || configuration.simulate
        let context: StationContext
        do {
            context = try StationContext.make(configuration: configuration, simulate: simulate, board: station.board, boards: station.boards)
            report.add("board", .pass, "\(context.board.name) (\(context.board.description))\(simulate ? ", simulated hardware" : "")")
        } catch {
            report.add("board", .fail, "\(error)", fix: "set board: to one of boards/*.yaml, or auto")
            return try finish(report.checks)
        }

        // I2C buses the sensors use, and whether we may open them.
        // (An I2C driver is one with a default address; its bus defaults to the board's first.)
        let i2cDrivers = Set(SensorFactory.drivers.filter { $0.defaultAddress != nil }.map(\.name))
        let buses = Set(context.specs.filter { i2cDrivers.contains($0.driver) }.map { $0.bus ?? context.board.i2c.first?.bus ?? 1 })
        for bus in buses.sorted() {
            do {
                _ = try context.hardware.i2cBus(bus)
                report.add("i2c-\(bus)", .pass, simulate ? "simulated bus \(bus)" : "/dev/i2c-\(bus) opens for reading and writing")
            } catch {
                let missing = !simulate && access("/dev/i2c-\(bus)", F_OK) != 0
                report.add("i2c-\(bus)", .fail, "\(error)",
                    fix: missing ? context.board.enableI2C : "add the daemon's user to the i2c group: sudo usermod -aG i2c fieldproof")
            }
        }
        if context.specs.contains(where: { $0.line != nil || $0.pin != nil }) {
            do {
                _ = try context.hardware.gpioChip(context.board.gpioChip)
                report.add("gpio", .pass, "chip \(context.board.gpioChip) found")
            } catch {
                report.add("gpio", .fail, "\(error)", fix: "add the daemon's user to the gpio group (sudo usermod -aG gpio fieldproof); check `gpiodetect`")
            }
        }

        // Every configured sensor, once.
        let sensors = SensorSet(specs: context.specs, factory: SensorFactory(hardware: context.hardware, board: context.board))
        for result in sensors.readAll() {
            switch result.result {
            case let .success(readings):
                report.add("sensor \(result.name)", .pass, "\(result.driver): " + readings.map { "\($0.quantity) \(ReadCommand.format($0, units: .display))" }.joined(separator: ", "))
            case let .failure(error):
                report.add("sensor \(result.name)", .fail, "\(result.driver): \(error.code): \(error.message)",
                    fix: "check wiring and address with `fieldproof scan`; read it alone with `fieldproof read --sensor \(result.name)`")
            }
        }
        sensors.close()

        await checkBroker(configuration, report)

        let clock = DeviceClock().now()
        if configuration.clock == .trusted {
            report.add("clock", clock.synchronised ? .pass : .warn,
                       "trusted by the configuration (clock: trusted)\(clock.synchronised ? "" : "; the kernel says not synchronised")",
                       fix: clock.synchronised ? nil : "use clock: trusted only where the host keeps time; otherwise enable NTP: sudo timedatectl set-ntp true")
        } else if clock.synchronised {
            report.add("clock", .pass, "synchronised")
        } else {
            report.add("clock", .warn, "not synchronised: readings carry the flag until it is",
                fix: "enable NTP: sudo timedatectl set-ntp true")
        }

        do {
            if let identity = try PairedIdentity.load(from: configuration.stateDirectory) {
                report.add("identity", identity.serial == configuration.serial ? .pass : .fail,
                    "paired as \(identity.serial), key id \(KeyID.hex(identity.keyID))",
                    fix: identity.serial == configuration.serial ? nil : "the configuration says \(configuration.serial): pair again with `fieldproof pair`")
            } else {
                report.add("identity", .fail, "not paired: the daemon publishes nothing", fix: "ask the operator for a PIN, then run `fieldproof pair`")
            }
        } catch {
            report.add("identity", .fail, "\(error)", fix: "fix the file named above, or pair again with `fieldproof pair`")
        }

        if access(configuration.stateDirectory, F_OK) != 0 {
            report.add("spool", .warn, "\(configuration.stateDirectory) does not exist yet",
                       fix: "systemd makes it (StateDirectory=fieldproof); or: sudo install -d -o fieldproof \(configuration.stateDirectory)")
        } else if access(configuration.stateDirectory, W_OK) != 0 {
            report.add("spool", .fail, "\(configuration.stateDirectory) is not writable", fix: "systemd makes it (StateDirectory=fieldproof); or: sudo install -d -o fieldproof \(configuration.stateDirectory)")
        } else if let status = try? DeviceStatus.read(fromRuntimeDirectory: configuration.runtimeDirectory) {
            let spool = status.spool
            let lost = spool.droppedRecords + spool.truncatedTails
            report.add("spool", lost > 0 ? .warn : .pass,
                       "\(spool.records) message(s) waiting, \(spool.droppedRecords) dropped (spool full), \(spool.truncatedTails) torn tail(s) truncated",
                fix: lost > 0 ? "raise spool.max_bytes, or check the broker and the aggregator: acks are not keeping up" : nil)
        } else {
            report.add("spool", .pass, "\(configuration.stateDirectory) is writable (no status in \(configuration.runtimeDirectory): the daemon is not running)")
        }
        checkLog(configuration, report)

        checkUnit(report)
        try finish(report.checks)
    }

    /// The transparency log audit: an alarm (kept in the state directory
    /// even when the daemon is down) fails the check.
    private func checkLog(_ configuration: AgentConfiguration, _ report: Report) {
        guard configuration.log.audit else {
            report.add("log", .warn, "log.audit is off: this device does not check that its data is in the aggregator's log",
                       fix: "set log.audit: true (the default)")
            return
        }
        let audit: DeviceLogAudit
        do { audit = try DeviceLogAudit(stateDirectory: configuration.stateDirectory) } catch {
            report.add("log", .fail, "\(error)")
            return
        }
        if let alarm = audit.alarm {
            report.add("log", .fail, "ALARM: \(alarm.reason)",
                       fix: "keep \(configuration.stateDirectory)/log-alarm.cose (the receipt the aggregator signed; `fieldproof decode` shows it) "
                           + "and report it to the network operator; "
                           + "remove log-alarm and log-alarm.cose once it is settled")
        } else if audit.view.size == 0 {
            report.add("log", .warn, "no checkpoint verified yet: the aggregator sends a log receipt once it has acknowledged messages")
        } else {
            report.add("log", .pass, "checkpoint of \(audit.view.size) entries verified; messages proven logged up to \(audit.view.provenSequence)")
        }
    }

    /// A real MQTT connection with the configured credentials and TLS.
    private func checkBroker(_ configuration: AgentConfiguration, _ report: Report) async {
        let broker = configuration.broker
        let mqtt = broker.mqttConfiguration(clientID: "fieldproof-doctor-\(configuration.serial)")
        let where_ = "\(broker.host):\(broker.port)\(broker.caFile == nil ? "" : " (TLS)")"
        do {
            let client = try MQTTClient(configuration: mqtt)
            defer { client.close() }
            let timeout = timeout
            let connected = await withTaskGroup(of: String?.self) { group in
                group.addTask {
                    do { try await client.connect(); return nil } catch { return "\(error)" }
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    return "no answer within \(timeout) s"
                }
                let first = await group.next() ?? "no answer"
                group.cancelAll()
                return first
            }
            if let failure = connected {
                report.add("broker", .fail, "\(where_): \(failure)",
                           fix: "check broker host, port, username and password in \(station.config), the network, and the TLS files if any")
            } else {
                report.add("broker", .pass, "\(where_) accepted our connection\(broker.caFile == nil ? "" : " and its certificate verified")")
            }
        } catch {
            report.add("broker", .fail, "\(error)", fix: "check the broker settings in \(station.config)")
        }
    }

    private func checkUnit(_ report: Report) {
        guard access("/usr/bin/systemctl", X_OK) == 0, access("/run/systemd/system", F_OK) == 0 else {
            report.add("systemd", .warn, "systemd is not running here")
            return
        }
        var state = "unknown"
        if let pipe = popen("/usr/bin/systemctl is-active fieldproof 2>/dev/null", "r") {
            var buffer = [CChar](repeating: 0, count: 64)
            if fgets(&buffer, Int32(buffer.count), pipe) != nil {
                state = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            pclose(pipe)
        }
        report.add("systemd", state == "active" ? .pass : .warn, "fieldproof.service is \(state)",
                   fix: state == "active" ? nil : "sudo systemctl enable --now fieldproof")
    }

    private func finish(_ checks: [Check]) throws {
        if json {
            print(JSONText.array(checks.map { check in
                .object([("check", .string(check.name)), ("status", .string(check.status.rawValue)), ("detail", .string(check.detail)),
                         ("fix", check.fix.map(JSONText.string) ?? .null)])
            }).render())
        } else {
            for check in checks {
                print("\(check.status.rawValue.uppercased().padding(5)) \(check.name.padding(16)) \(check.detail)" + (check.fix.map { " — \($0)" } ?? ""))
            }
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
