@testable import Agent
import Identity
import MQTT
import Wire
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The real `fieldproof-aggregator` and `fieldproof` binaries against a real
/// broker: enrollment, pairing outcomes, signed telemetry tallied exactly
/// once through a `kill -9` of the aggregator, the API, and SIGTERM.
@Suite(.serialized) struct AggregatorServiceTests {
    let directory: String

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "aggregator-service").path
    }

    var aggregatorConfig: String { directory + "/aggregator.yaml" }
    var aggregatorLog: String { directory + "/aggregator.log" }
    func stateDirectory(_ serial: String) -> String { directory + "/" + serial }
    func runtimeDirectory(_ serial: String) -> String { directory + "/" + serial + ".run" }

    func writeAggregatorConfig(brokerPort: Int, httpPort: Int, reconnectMaximumDelay: String = "5s", logLevel: String = "warning",
                               extra: String = "") throws {
        try """
            state_directory: \(directory)/aggregator
            log_level: \(logLevel)
            broker:
              port: \(brokerPort)
              reconnect_max_delay: \(reconnectMaximumDelay)
            http:
              port: \(httpPort)
            pairing:
              max_attempts: 3
            \(extra)
            """.write(toFile: aggregatorConfig, atomically: true, encoding: .utf8)
    }

    func writeDeviceConfig(_ serial: String, brokerPort: Int) throws -> String {
        let path = directory + "/\(serial).yaml"
        try """
            serial: \(serial)
            state_directory: \(stateDirectory(serial))
            runtime_directory: \(runtimeDirectory(serial))
            simulate: true
            board: raspberry-pi-4b
            clock: trusted
            broker:
              port: \(brokerPort)
              reconnect_max_delay: 300ms
            publishing:
              resend_after: 1s
            sensors:
              - {name: air, driver: bme280, interval: 50ms}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func aggregator(_ arguments: String...) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        return try await ProcessRunner.run(binary.path, arguments + ["--config", aggregatorConfig])
    }

    func fieldproof(_ arguments: [String]) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof"))
        return try await ProcessRunner.run(binary.path, arguments)
    }

    /// `fieldproof pair` as a technician runs it: the PIN on standard input
    /// (never on the command line), the aggregator's fingerprint from the
    /// operator (here: computed from the aggregator's key file, which the
    /// first `enroll` created).
    func pair(_ config: String, pin: String, _ extra: [String] = []) async throws -> ProcessRunner.Result {
        let binary = try #require(ProjectPaths.product("fieldproof"))
        let seed = try #require(try SecretFile.read(directory + "/aggregator/aggregator.key"))
        let fingerprint = try AggregatorIdentity(seed: seed).fingerprint
        return try await ProcessRunner.run(binary.path, ["pair", "--config", config, "--aggregator-fingerprint", fingerprint] + extra,
                                                   input: pin + "\n")
    }

    func serve() throws -> ChildProcess {
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        return try ChildProcess(binary.path, ["serve", "--config", aggregatorConfig], outputFile: aggregatorLog)
    }

    func enroll(_ serial: String, expires: String = "1h") async throws -> String {
        let result = try await aggregator("enroll", "--serial", serial, "--expires", expires, "--json")
        #expect(result.status == 0, "\(result.output)")
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String]
        return try #require(object?["pin"])
    }

    func device(_ serial: String) async throws -> [String: Any] {
        let result = try await aggregator("devices", "show", serial, "--json")
        return (try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]) ?? [:]
    }

    func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return try await condition()
    }

    var log: String { (try? String(contentsOfFile: aggregatorLog, encoding: .utf8)) ?? "" }

    @Test func pairingOutcomesAndExactlyOnceTalliesThroughAKill9() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()
        try writeAggregatorConfig(brokerPort: broker.port, httpPort: httpPort)
        let good = try writeDeviceConfig("dev-good", brokerPort: broker.port)
        let locked = try writeDeviceConfig("dev-locked", brokerPort: broker.port)

        // A config error names the place and exits 78.
        try "broker:\n  port: nope\n".write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let binary = try #require(ProjectPaths.product("fieldproof-aggregator"))
        let bad = try await ProcessRunner.run(binary.path, ["serve", "--config", directory + "/bad.yaml"])
        #expect(bad.status == 78 && bad.output.contains("bad.yaml:2"), "\(bad.output)")

        let goodPIN = try await enroll("dev-good")
        _ = try await enroll("dev-locked")
        let expiredPIN = try await enroll("dev-expired", expires: "1s")
        var service = try serve()
        #expect(await waitUntil(seconds: 20) { LoopbackNetwork.accepts(port: httpPort) }, "\(log)")

        // Wrong PIN until locked; then even the right one is refused.
        let wrong = try await pair(locked, pin: "000000")
        #expect(wrong.status == 2 && wrong.output.contains("wrong PIN: 2 attempts left"), "\(wrong.output)")
        _ = try await pair(locked, pin: "000000")
        let third = try await pair(locked, pin: "000000")
        #expect(third.status == 4 && third.output.contains("locked"), "\(third.output)")
        // Expired PIN (enrolled for 1 s), unknown serial.
        let expired = try await pair(locked, pin: expiredPIN, ["--serial", "dev-expired"])
        #expect(expired.status == 3, "\(expired.output)")
        let unknown = try await pair(locked, pin: "123456", ["--serial", "dev-nobody"])
        #expect(unknown.status == 5 && unknown.output.contains("enroll --serial dev-nobody"), "\(unknown.output)")

        // The right PIN pairs once; used again it is refused.
        let paired = try await pair(good, pin: goodPIN)
        #expect(paired.status == 0 && paired.output.contains("paired dev-good: key id"), "\(paired.output)")
        let reused = try await pair(good, pin: goodPIN)
        #expect(reused.status == 3, "\(reused.output)")
        #expect(try await device("dev-good")["keyID"] as? String != nil)
        // Every pairing request counted by how it ended (before the kill -9 below resets the counters).
        let (metricsBody, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/metrics")!)
        let metrics = String(decoding: metricsBody, as: UTF8.self)
        for (outcome, count) in [("wrong_pin", 2), ("locked", 1), ("expired", 1), ("unknown_serial", 1), ("accepted", 1), ("already_used", 1)] {
            #expect(metrics.contains("fieldproof_pairing_requests_total{outcome=\"\(outcome)\"} \(count)"), "\(outcome): \(metrics)")
        }

        // The daemon publishes at 20 Hz; the aggregator is killed with -9
        // mid-stream and restarted.
        let daemonBinary = try #require(ProjectPaths.product("fieldproof"))
        let daemon = try ChildProcess(daemonBinary.path, ["run", "--config", good], outputFile: directory + "/daemon.log")
        #expect(try await waitUntil(seconds: 30) { (try await device("dev-good")["accepted"] as? Int ?? 0) >= 40 }, "\(log)")
        #expect(await service.stop(signal: SIGKILL, timeout: 5))
        func deviceStatus() -> DeviceStatus? { (try? DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory("dev-good"))) ?? nil }
        // Readings taken while no aggregator listens (a second's worth at 20 Hz)...
        let atKill = deviceStatus()?.lastSequence ?? 0
        #expect(await waitUntil(seconds: 30) { (deviceStatus()?.lastSequence ?? 0) >= atKill + 20 })
        let acceptedBeforeRestart = try await device("dev-good")["accepted"] as? Int ?? 0
        service = try serve()
        // ...and the restarted aggregator at work again before the daemon stops.
        #expect(try await waitUntil(seconds: 30) { (try await device("dev-good")["accepted"] as? Int ?? 0) > acceptedBeforeRestart }, "\(log)")
        #expect(await daemon.stop(signal: SIGTERM, timeout: 20))
        let status = try #require(try DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory("dev-good")))
        let last = status.lastSequence
        #expect(last > 60)
        // Every sequence tallied exactly once: the daemon re-sends what was
        // not acknowledged, the store ignores what it already has.
        let settled = try await waitUntil(seconds: 30) {
            let summary = try await device("dev-good")
            return (summary["highestContiguous"] as? Int ?? 0) >= Int(last)
        }
        let summary = try await device("dev-good")
        #expect(settled, "\(summary) vs last sequence \(last)")
        #expect(summary["accepted"] as? Int == Int(last), "each of \(last) sequences counted once: \(summary)")
        let tallies = try await aggregator("tally", "--device", "dev-good", "--json")
        let rows = try JSONSerialization.jsonObject(with: Data(tallies.output.utf8)) as? [[String: Any]] ?? []
        let temperature = rows.filter { $0["metric"] as? String == "air/temperature" }.compactMap { $0["count"] as? Int }.reduce(0, +)
        #expect(temperature == Int(last), "\(tallies.output)")

        // The API shows the same, and the device list knows the locked one.
        let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/api/v1/devices/dev-good")!)
        let api = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        #expect(api?["accepted"] as? Int == Int(last))
        let list = try await aggregator("devices", "list")
        #expect(list.output.contains("dev-locked") && list.output.contains("enrolled"), "\(list.output)")

        // Reflashed: the state directory wiped (new secret, sequence back at 1), enrolled and paired again.
        // The pairing answer says what the aggregator holds, so the new counter continues above it and every
        // new reading is tallied — none acknowledged as a "duplicate" and dropped from the spool.
        try FileManager.default.removeItem(atPath: stateDirectory("dev-good"))
        try FileManager.default.removeItem(atPath: runtimeDirectory("dev-good")) // tmpfs: gone after the reboot
        let repaired = try await pair(good, pin: try await enroll("dev-good"))
        #expect(repaired.status == 0, "\(repaired.output)")
        let reflashed = try ChildProcess(daemonBinary.path, ["run", "--config", good], outputFile: directory + "/daemon-reflashed.log")
        #expect(try await waitUntil(seconds: 30) { (try await device("dev-good")["accepted"] as? Int ?? 0) >= Int(last) + 20 }, "\(log)")
        #expect(await reflashed.stop(signal: SIGTERM, timeout: 20))
        let newLast = try #require(try DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory("dev-good"))).lastSequence
        #expect(newLast > last)
        #expect(try await waitUntil(seconds: 30) { (try await device("dev-good")["highestContiguous"] as? Int ?? 0) >= Int(newLast) })
        let afterReflash = try await device("dev-good")
        #expect(afterReflash["accepted"] as? Int == Int(newLast), "every sequence up to \(newLast) counted once: \(afterReflash)")
        let reflashedSequences = try #require(try DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory("dev-good"))?.sequences)
        #expect(reflashedSequences.first == last + 1 && reflashedSequences.signed == newLast - last && reflashedSequences.skipped == 0,
                "the new state directory signed from above what the aggregator held: \(reflashedSequences)")
        let refusals = afterReflash["rejected"] as? [String: Int] ?? [:]
        // (Redeliveries after the kill -9 above are counted as redelivered; a re-used sequence would be a conflict.)
        #expect(refusals["sequence_conflict"] == nil, "\(refusals)")

        // Revoked: what the device sends next is refused as revoked_key; a new PIN needs `devices reinstate` first.
        #expect(try await aggregator("devices", "revoke", "dev-good").status == 0)
        #expect(try await device("dev-good")["revoked"] as? Bool == true)
        let refusedEnrollment = try await aggregator("enroll", "--serial", "dev-good")
        #expect(refusedEnrollment.status != 0 && refusedEnrollment.output.contains("devices reinstate dev-good"), "\(refusedEnrollment.output)")
        #expect(try await aggregator("devices", "reinstate", "dev-good").status == 0)
        #expect(try await aggregator("enroll", "--serial", "dev-good").status == 0)

        #expect(await service.stop(signal: SIGTERM, timeout: 20))
        #expect(service.exitCode == 0, "graceful stop: \(log)")
    }

    /// Issue 16 item 4: the daemon checks that its own readings and its key
    /// binding are in the aggregator's log, receipt by receipt, and the
    /// spool lets acknowledged readings go only once they are proven. When
    /// the log it is shown contradicts the checkpoint it holds (what a
    /// forked log looks like from the device), that is an alarm in the
    /// status, in `doctor` and in the availability message, and the spool
    /// keeps what it can no longer prove.
    @Test func theDaemonProvesItsReadingsAreLoggedAndAlarmsWhenTheLogForks() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()
        try writeAggregatorConfig(brokerPort: broker.port, httpPort: httpPort, extra: "log:\n  checkpoint_interval: 200ms")
        let config = try writeDeviceConfig("dev-audit", brokerPort: broker.port)
        let pin = try await enroll("dev-audit")
        let service = try serve() // killed when dropped, if a step fails
        #expect(await waitUntil(seconds: 20) { LoopbackNetwork.accepts(port: httpPort) }, "\(log)")
        #expect(try await pair(config, pin: pin).status == 0)

        let daemonBinary = try #require(ProjectPaths.product("fieldproof"))
        func deviceStatus() -> DeviceStatus? { (try? DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory("dev-audit"))) ?? nil }
        var daemon = try ChildProcess(daemonBinary.path, ["run", "--config", config], outputFile: directory + "/audit.log")
        #expect(await waitUntil(seconds: 30) { (deviceStatus()?.log?.provenSequence ?? 0) >= 40 }, "\(String(describing: deviceStatus()?.log))")
        let proven = try #require(deviceStatus()?.log)
        #expect(proven.alarm == nil && proven.size > 40 && proven.receipts > 0, "\(proven)")
        let shown = try await fieldproof(["status", "--config", config])
        #expect(shown.output.contains("messages proven logged up to"), "\(shown.output)")
        #expect(await daemon.stop(signal: SIGTERM, timeout: 20))

        // The device's held checkpoint now disagrees with the log: the next
        // receipt's consistency proof cannot lead from it.
        let viewPath = stateDirectory("dev-audit") + "/log-view"
        let view = try String(contentsOfFile: viewPath, encoding: .utf8)
        let forged = view.split(separator: "\n").map { $0.hasPrefix("root ") ? "root " + Data(repeating: 0x5A, count: 32).base64EncodedString() : String($0) }
        try (forged.joined(separator: "\n") + "\n").write(toFile: viewPath, atomically: true, encoding: .utf8)
        // What the first run ended with: its last status file, and the log
        // view it left (a receipt checked while it stopped may be in the view
        // and not in the status).
        let stopped = try #require(deviceStatus())
        let acknowledgedBefore = stopped.spool.lastAcknowledged
        let provenBefore = try #require(forged.first { $0.hasPrefix("proven ") }.flatMap { UInt64($0.dropFirst("proven ".count)) })
        daemon = try ChildProcess(daemonBinary.path, ["run", "--config", config], outputFile: directory + "/audit-forked.log")
        #expect(await waitUntil(seconds: 30) { deviceStatus()?.log?.alarm != nil }, "\(String(describing: deviceStatus()?.log))")
        let alarmed = try #require(deviceStatus()?.log)
        // The retained receipt (same size, another root) or a newer one (no consistency from the held root).
        let reason = try #require(alarmed.alarm)
        #expect(reason.contains("forked") || reason.contains("append-only"), "\(alarmed)")
        let availability = String(decoding: try await broker.retainedMessage(topic: Topics.status("dev-audit")) ?? [], as: UTF8.self)
        #expect(availability.contains(reason), "the availability message carries the alarm: \(availability)")
        // Nothing more is proven, so the spool keeps the acknowledged readings.
        // (Sequences jump after a restart: the counter reserves blocks; so records are counted, not sequence numbers.)
        let kept = await waitUntil(seconds: 10) {
            guard let status = deviceStatus(), status.spool.lastAcknowledged > acknowledgedBefore else { return false }
            return (status.log?.unprovenRecords ?? 0) >= 20
        }
        let after = try #require(deviceStatus())
        #expect(kept, "acknowledged records are kept while nothing is proven: \(String(describing: after.log)), acknowledged up to \(after.spool.lastAcknowledged)")
        #expect(after.log?.provenSequence == provenBefore, "no receipt proves anything against the forged checkpoint: \(String(describing: after.log))")
        #expect(await daemon.stop(signal: SIGTERM, timeout: 20))
        let doctor = try await fieldproof(["doctor", "--config", config, "--timeout", "2"])
        #expect(doctor.status == 1 && doctor.output.contains("FAIL  log") && doctor.output.contains("log-alarm.cose"), "\(doctor.output)")
        #expect(FileManager.default.fileExists(atPath: stateDirectory("dev-audit") + "/log-alarm.cose"), "the signed receipt is kept as evidence")
        #expect(await service.stop(signal: SIGTERM, timeout: 20))
    }

    static let pythonPath = ProcessInfo.processInfo.environment["FIELDPROOF_PYTHON"]

    /// Honest and bad traffic from a client nobody here wrote (paho-mqtt,
    /// cbor2, pycose in the test venv): each bad message is rejected and
    /// counted under its reason, honest traffic keeps being tallied.
    @Test(.enabled(if: pythonPath != nil || ProcessInfo.processInfo.environment["CI"] != nil,
                   "FIELDPROOF_PYTHON is not set: run scripts/test, which makes the venv"))
    func everyRejectionReasonFromPahoIsCountedWhileHonestTrafficIsTallied() async throws {
        let python = try #require(Self.pythonPath, "scripts/test sets FIELDPROOF_PYTHON")
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()
        try writeAggregatorConfig(brokerPort: broker.port, httpPort: httpPort)
        let service = try serve()
        #expect(await waitUntil(seconds: 20) { LoopbackNetwork.accepts(port: httpPort) }, "\(log)")
        for serial in ["dev-1", "dev-old"] {
            let pin = try await enroll(serial)
            let paired = try await pair(try writeDeviceConfig(serial, brokerPort: broker.port), pin: pin)
            #expect(paired.status == 0, "\(paired.output)")
        }
        #expect(try await aggregator("devices", "revoke", "dev-old").status == 0)
        func seed(_ serial: String) throws -> String {
            let identity = try #require(try PairedIdentity.load(from: stateDirectory(serial)))
            return KeyID.hex(Array(identity.identityKey.rawRepresentation))
        }

        let script = ProjectPaths.root.appendingPathComponent("scripts/interop/paho_publisher.py").path
        let published = try await ProcessRunner.run(python, [script, String(broker.port), "dev-1", try seed("dev-1"), "dev-old",
                                                                     try seed("dev-old"), "50"])
        #expect(published.status == 0, "\(published.output)")
        let settled = try await waitUntil(seconds: 30) {
            let summary = try await device("dev-1")
            let rejected = (summary["rejected"] as? [String: Int] ?? [:]).values.reduce(0, +)
            return summary["accepted"] as? Int == 100 && rejected >= 6 && (summary["redelivered"] as? Int ?? 0) >= 1
        }
        let summary = try await device("dev-1")
        #expect(settled, "\(summary)")
        #expect(summary["accepted"] as? Int == 100 && summary["highestContiguous"] as? Int == 100, "\(summary)")
        let rejected = summary["rejected"] as? [String: Int] ?? [:]
        #expect(rejected == ["bad_signature": 1, "sequence_conflict": 1, "topic_serial_mismatch": 1, "oversized": 1, "malformed": 1,
                             "timestamp_in_future": 1], "\(rejected)")
        #expect(summary["redelivered"] as? Int == 1, "the replayed message is a redelivery, not a rejection: \(summary)")
        #expect((try await device("dev-old")["rejected"] as? [String: Int]) == ["revoked_key": 1])

        // The Prometheus counters agree.
        let metrics = try await ProcessRunner.run("/usr/bin/python3", ["-c", """
            import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:\(httpPort)/metrics").read().decode())
            """]).output
        for reason in ["bad_signature", "sequence_conflict", "topic_serial_mismatch", "oversized", "malformed", "timestamp_in_future",
                       "revoked_key", "unknown_device"] {
            #expect(metrics.contains("fieldproof_messages_rejected_total{reason=\"\(reason)\"} 1"), "\(reason): \(metrics)")
        }
        #expect(metrics.contains("fieldproof_messages_accepted_total 100"))
        #expect(metrics.contains("fieldproof_messages_redelivered_total 1"), "\(metrics)")
        #expect(await service.stop(signal: SIGTERM, timeout: 20))
        #expect(service.exitCode == 0, "\(log)")
    }
    /// The broker restarts under a device at 20 Hz: the aggregator's two
    /// connections come back together, the first Ack follows the broker's
    /// return within 2 s + the configured backoff, and each change is logged
    /// with the broker's host:port and counted in /metrics.
    @Test func acksResumeWithinTheBackoffAfterABrokerRestart() async throws {
        // With persistence, as config/mosquitto/fieldproof.conf has it: the
        // aggregator's session (its subscriptions) outlives the restart, so
        // what a device sends before the aggregator is back waits for it.
        let broker = try MosquittoBroker(configuration: MosquittoBroker.persistentConfiguration)
        defer { broker.stop() }
        let httpPort = try LoopbackNetwork.freePort()
        try writeAggregatorConfig(brokerPort: broker.port, httpPort: httpPort, reconnectMaximumDelay: "2s", logLevel: "info")
        let service = try serve()
        #expect(await waitUntil(seconds: 20) { LoopbackNetwork.accepts(port: httpPort) }, "\(log)")
        let config = try writeDeviceConfig("dev-r", brokerPort: broker.port)
        let paired = try await pair(config, pin: try await enroll("dev-r"))
        #expect(paired.status == 0, "\(paired.output)")
        let daemonBinary = try #require(ProjectPaths.product("fieldproof"))
        let daemon = try ChildProcess(daemonBinary.path, ["run", "--config", config], outputFile: directory + "/daemon.log")
        #expect(try await waitUntil(seconds: 30) { (try await device("dev-r")["accepted"] as? Int ?? 0) >= 20 }, "\(log)")

        broker.stop()
        try await Task.sleep(for: .seconds(8)) // long enough for both backoffs to reach their cap
        try broker.start() // returns once the broker accepts connections
        let back = ContinuousClock.now
        var readerConfiguration = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "ack-reader")
        readerConfiguration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(50))
        let reader = try MQTTClient(configuration: readerConfiguration)
        defer { reader.close() }
        try await reader.connect()
        try await reader.subscribe(Topics.ack("dev-r"), qos: .atLeastOnce)
        // The retained Ack on subscribing is the one from before the restart
        // (the broker kept it); the first one published to us after it is
        // new. Should one have gone out before the subscription, the next
        // is measured: the delay only errs long.
        let firstAck = await withTaskGroup(of: Duration?.self) { group in
            group.addTask {
                for await message in reader.messages where !message.retain { return ContinuousClock.now - back }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let delay = try #require(firstAck, "an Ack after the broker came back: \(log)")
        #expect(delay <= .milliseconds(2000 + 2400), "2 s + the 2 s backoff (with its 20 % jitter); took \(delay)")
        func metrics() async throws -> String {
            try await ProcessRunner.run("/usr/bin/python3", ["-c", """
                import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:\(httpPort)/metrics").read().decode())
                """]).output
        }
        let expected = ["intake", "outgoing"].map { "fieldproof_broker_connection_changes_total{connection=\"\($0)\",event=\"connected\"} 2" }
        #expect(try await waitUntil(seconds: 5) { let text = try await metrics(); return expected.allSatisfy { text.contains($0) } })
        let metrics = try await metrics()
        for connection in ["intake", "outgoing"] {
            #expect(metrics.contains("fieldproof_broker_connection_changes_total{connection=\"\(connection)\",event=\"lost\"} 1"), "\(metrics)")
            #expect(metrics.contains("fieldproof_broker_connection_changes_total{connection=\"\(connection)\",event=\"connected\"} 2"), "\(metrics)")
            #expect(metrics.contains("fieldproof_broker_connected{connection=\"\(connection)\"} 1.0"), "\(metrics)")
        }
        #expect(await daemon.stop(signal: SIGTERM, timeout: 20))
        #expect(await service.stop(signal: SIGTERM, timeout: 20))
        #expect(service.exitCode == 0, "\(log)")
        #expect(log.contains("broker=127.0.0.1:\(broker.port) connection=outgoing reason=") && log.contains("broker connection lost"), "\(log)")
        #expect(log.components(separatedBy: "broker connection up").count - 1 == 4, "two connections, twice each: \(log)")
    }
}
