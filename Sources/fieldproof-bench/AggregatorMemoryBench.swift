import Aggregator
import AggregatorStore
import ArgumentParser
import Crypto
import Foundation
import Identity
import MQTT
import TestSupport
import Wire
import LinuxService

/// Resident memory of the real `fieldproof-aggregator serve` (SQLite) after
/// a first checkpoint and after many more messages: a service that keeps
/// anything per message (caches, maps, queues) grows; one that does not,
/// stays flat.
struct AggregatorMemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aggregator-memory",
        abstract: "VmRSS of fieldproof-aggregator serve after --checkpoint and after --messages signed messages.")

    @Option(help: "Messages in all.") var messages = 1_000_000
    @Option(help: "Messages between measurements (the first is the baseline).") var checkpoint = 100_000
    @Option(help: "Devices sending them.") var devices = 50
    @Option(help: "Publishing window (QoS 1 messages in flight).") var window = 200

    func run() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldproof-aggregator")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("\(binary.path) is missing: swift build -c release --product fieldproof-aggregator")
        }
        let broker = try MosquittoBroker(configuration: AggregatorBench.brokerConfiguration)
        defer { broker.stop() }
        let directory = try TemporaryDirectory.make(prefix: "aggregator-memory")
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = (0..<devices).map { _ in Curve25519.Signing.PrivateKey() }
        let serials = (0..<devices).map { String(format: "mem-%03d", $0) }
        let database = directory.appendingPathComponent("tallies.sqlite").path
        let store = try SQLiteStore(path: database, calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        for (index, serial) in serials.enumerated() { try await store.bindKey(serial: serial, publicKey: keys[index].publicKey, at: 0, logKey: Curve25519.Signing.PrivateKey()) }

        let config = directory.appendingPathComponent("aggregator.yaml")
        try """
            state_directory: \(directory.path)
            log_level: warning
            broker:
              port: \(broker.port)
            http:
              port: \(try LoopbackNetwork.freePort())
            """.write(to: config, atomically: true, encoding: .utf8)
        let aggregator = try ChildProcess(binary.path, ["serve", "--config", config.path])
        defer { _ = aggregator.terminate(signal: SIGINT, timeout: 30) }
        try await Task.sleep(for: .seconds(2))

        print("Aggregator memory: \(messages) signed Telemetry from \(devices) devices into fieldproof-aggregator serve (SQLite), window \(window)")
        var configuration = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "memory-devices")
        configuration.maximumInflight = window
        let publisher = try MQTTClient(configuration: configuration)
        try await publisher.connect()
        defer { publisher.close() }
        let perDevice = messages / devices
        let now = WallClock.milliseconds()
        var measured: [(Int, Resident)] = []
        let start = Date()
        var sent = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sequence in 1...perDevice {
                for (index, serial) in serials.enumerated() {
                    // Signed as they go: a million messages are not held in memory here.
                    let telemetry = Telemetry(serial: serial, sequence: UInt64(sequence), floor: 0, timestamp: now + UInt64(sequence),
                                              clockSynchronised: true, bootID: [UInt8](repeating: 1, count: 16),
                                              millisecondsSinceBoot: UInt64(sequence),
                                              readings: [.init(sensor: "air", quantity: "temperature", value: 290 + Double(sequence % 9), unit: "K")],
                                              statuses: [])
                    let payload = try COSESign1.sign(payload: telemetry.encode(), with: keys[index], keyID: KeyID.of(keys[index].publicKey))
                    if sent >= window { try await group.next() }
                    group.addTask { try await publisher.publish(topic: Topics.telemetry(serial), payload: payload, qos: .atLeastOnce) }
                    sent += 1
                }
                // A measurement at every multiple of the checkpoint: growth
                // shows as a slope, a cache filling up as a plateau.
                if sent >= checkpoint * (measured.count + 1), sent < perDevice * devices {
                    try await group.waitForAll()
                    measured.append((try await waitUntilAccepted(sent, store: store), try resident(aggregator.pid)))
                }
            }
            try await group.waitForAll()
        }
        let total = perDevice * devices
        measured.append((try await waitUntilAccepted(total, store: store), try resident(aggregator.pid)))
        let seconds = Date().timeIntervalSince(start)
        for (accepted, memory) in measured {
            print(String(format: "  after %9d messages     resident %6d KiB (heap %6d, files %6d, shared %5d, private dirty %6d)", accepted, memory.total,
                         memory.anonymous, memory.file, memory.shared, memory.privateDirty))
        }
        if let first = measured.first, let last = measured.last {
            print(String(format: "  aggregator VmRSS after %d vs after %d messages   ratio %.2f (goal <= 1.00)  (%.0f msg/s)",
                         last.0, first.0, Double(last.1.total) / Double(first.1.total), Double(total) / seconds))
        }
    }

    /// Waits until the store holds `count` accepted messages, then a moment
    /// for the service to settle; returns the count.
    private func waitUntilAccepted(_ count: Int, store: SQLiteStore) async throws -> Int {
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            let accepted = Int(try await store.devices().map(\.accepted).reduce(0, +))
            if accepted >= count {
                try await Task.sleep(for: .seconds(2))
                return accepted
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw ValidationError("the aggregator did not accept \(count) messages within 10 minutes")
    }

    /// VmRSS, and what it is made of: heap and stacks (RssAnon), mapped
    /// files such as code (RssFile), shared memory such as SQLite's WAL
    /// index (RssShmem).
    private func resident(_ pid: Int32) throws -> Resident {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func kib(_ field: String) throws -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
                  let value = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
                throw ValidationError("no \(field) for process \(pid)")
            }
            return value
        }
        let rollup = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
        let privateDirty = rollup.split(separator: "\n").first(where: { $0.hasPrefix("Private_Dirty:") })
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? -1
        return Resident(total: try kib("VmRSS"), anonymous: try kib("RssAnon"), file: try kib("RssFile"), shared: try kib("RssShmem"), privateDirty: privateDirty)
    }

    struct Resident {
        var total: Int
        var anonymous: Int
        var file: Int
        var shared: Int
        var privateDirty: Int
    }
}
