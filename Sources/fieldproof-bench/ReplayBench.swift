import Agent
import ArgumentParser
import Foundation
import MQTT
import TestSupport

/// Time to replay a backlog after an outage: one hour at 1 Hz (3,600
/// spooled messages of Telemetry size) delivered by the daemon's delivery
/// engine (window, PUBACK, Ack from an aggregator stand-in that acks the
/// highest contiguous sequence once per window) until the spool is empty. Baseline in the
/// same run and broker: the same messages published with our MQTT client,
/// QoS 1, window-many in flight, no spool and no acknowledgements.
struct ReplayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Drain a one-hour 1 Hz backlog through the delivery engine vs raw QoS 1 publishing.")

    @Option(help: "Spooled messages (3,600 = one hour at 1 Hz).") var count = 3_600
    @Option(help: "The delivery window (the daemon's default is 32).") var window = 32

    func run() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let payload = [UInt8](repeating: 0x5A, count: 360)
        let directory = try TemporaryDirectory.make(prefix: "replay").path
        let spool = SharedSpool(try Spool(configuration: SpoolConfiguration(directory: directory, maximumBytes: 64 << 20)))
        for sequence in 1...UInt64(count) { try spool.append(sequence: sequence, payload: payload) }
        try spool.sync()

        let device = try await client(broker, "device")
        let aggregator = try await client(broker, "aggregator")
        try await aggregator.subscribe("bench/telemetry", qos: .atLeastOnce)
        let engine = DeliveryEngine(spool: spool, client: device, topic: "bench/telemetry", window: window, resendAfter: .seconds(5))
        // The aggregator stand-in: count each sequence once, ack the highest contiguous (in process).
        let acker = Task {
            var seen = Set<UInt64>()
            var highest: UInt64 = 0
            var index: UInt64 = 0
            for await _ in aggregator.messages {
                index += 1 // payloads are identical; the engine sends in order, so arrival order is the sequence
                seen.insert(index)
                while seen.contains(highest + 1) { highest += 1 }
                // Acks are coalesced as the aggregator's AckCoalescer and the
                // daemon's ack listener do: one per window's worth.
                if highest % UInt64(window) == 0 || highest == UInt64(count) { await engine.acknowledged(upTo: highest) }
                if highest == UInt64(count) { return }
            }
        }
        let start = ContinuousClock.now
        let runner = Task { await engine.run() }
        _ = await acker.value
        let replay = ContinuousClock.now - start
        runner.cancel()

        // Baseline: raw QoS 1 publishing of the same messages, a sliding window of `window` in flight.
        let rawStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= window { try await group.next() }
                group.addTask { try await device.publish(topic: "bench/raw", payload: payload, qos: .atLeastOnce) }
            }
            try await group.waitForAll()
        }
        let raw = ContinuousClock.now - rawStart
        device.close()
        aggregator.close()
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        print("replay of \(count) spooled messages (window \(window)): \(String(format: "%.2f", seconds(replay))) s (\(Int(Double(count) / seconds(replay))) msg/s)")
        print("raw QoS 1 publishing, same messages and window: \(String(format: "%.2f", seconds(raw))) s (\(Int(Double(count) / seconds(raw))) msg/s)")
        print("ratio (raw time / replay time): \(String(format: "%.2f", seconds(raw) / seconds(replay)))")
    }

    func client(_ broker: MosquittoBroker, _ name: String) async throws -> MQTTClient {
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "replay-\(name)"))
        try await client.connect()
        return client
    }
}
