import ArgumentParser
import Foundation
import MQTT
import TestSupport

/// Publishes N messages of 150 bytes at QoS 1 through our wrapper and counts
/// them at a subscriber; in the same run, the same through Debian's
/// mosquitto_pub/mosquitto_sub as the baseline.
///
/// Fairness: `mosquitto_pub -l` exits before its last PUBACKs arrive and
/// stops early once message ids wrap past 65,535, so the baseline feeds it
/// chunks of 50,000 lines per process and counts only what mosquitto_sub
/// received, timed to the last received message.
struct MQTTBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract: "QoS 1 publish rate: our MQTT wrapper against mosquitto_pub/mosquitto_sub."
    )

    @Option(help: "Messages per run.") var count = 200_000
    @Option(help: "Payload bytes per message.") var size = 150
    @Option(help: "Publishes in flight at once through the wrapper.") var window = 1000

    func run() async throws {
        let broker = try MosquittoBroker(configuration: """
            listener {PORT} 127.0.0.1
            allow_anonymous true
            max_queued_messages 1000000
            max_inflight_messages 1000
            """)
        let payload = Array(String(repeating: "x", count: size).utf8)

        let raw = try await rawToolsRate(broker: broker, payload: payload)
        let wrapperToRaw = try await wrapperPublishRate(broker: broker, payload: payload, subscriberIsRawTool: true)
        let wrapper = try await wrapperPublishRate(broker: broker, payload: payload, subscriberIsRawTool: false)

        func line(_ name: String, _ result: Result) -> String {
            let ratio = result.rate / raw.rate
            let padded = name.padding(toLength: 46, withPad: " ", startingAt: 0)
            return padded + String(format: " %7d/%d delivered  %8.0f msg/s  ratio %.2f", result.delivered, count, result.rate, ratio)
        }
        print("MQTT QoS 1, \(count) messages of \(size) bytes, broker \(MosquittoBroker.executable) on 127.0.0.1:\(broker.port)")
        print(line("baseline: mosquitto_pub -l -> mosquitto_sub", raw))
        print(line("wrapper publish -> mosquitto_sub", wrapperToRaw))
        print(line("wrapper publish -> wrapper subscriber", wrapper))
    }

    struct Result {
        var delivered: Int
        var seconds: Double
        var rate: Double { Double(delivered) / seconds }
    }

    /// mosquitto_sub prints one Unix timestamp per message (-F %U); the last
    /// one marks when the last message arrived.
    private func rawToolsRate(broker: MosquittoBroker, payload: [UInt8]) async throws -> Result {
        let topic = "bench/raw"
        let reader = Task { [count] in
            try await ProcessRunner.run("/usr/bin/mosquitto_sub", [
                "-h", broker.host, "-p", String(broker.port), "-t", topic, "-q", "1",
                "-C", String(count), "-W", "120", "-F", "%U", "-i", "bench-raw-sub",
            ]).output
        }
        try await Task.sleep(for: .milliseconds(300)) // let the subscription settle

        let chunk = 50_000
        let lines = String(decoding: payload, as: UTF8.self) + "\n"
        let start = Date().timeIntervalSince1970
        var sent = 0
        while sent < count {
            let n = min(chunk, count - sent)
            _ = try await ProcessRunner.run("/usr/bin/mosquitto_pub", [
                "-h", broker.host, "-p", String(broker.port), "-t", topic, "-q", "1", "-l", "-M", "1000",
                "-i", "bench-raw-pub-\(sent)",
            ], input: String(repeating: lines, count: n))
            sent += n
        }
        let stamps = try await reader.value.split(separator: "\n")
        let last = stamps.last.flatMap { Double($0) } ?? Date().timeIntervalSince1970
        return Result(delivered: stamps.count, seconds: last - start)
    }

    private func wrapperPublishRate(broker: MosquittoBroker, payload: [UInt8], subscriberIsRawTool: Bool) async throws -> Result {
        let topic = subscriberIsRawTool ? "bench/wrapper-raw" : "bench/wrapper"
        var publisherConfig = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "bench-pub-\(topic)")
        publisherConfig.maximumInflight = window
        let publisher = try MQTTClient(configuration: publisherConfig)
        try await publisher.connect()
        defer { publisher.close() }

        let received: Task<(Int, Double), any Error>
        if subscriberIsRawTool {
            received = Task { [count] in
                let stamps = try await ProcessRunner.run("/usr/bin/mosquitto_sub", [
                    "-h", broker.host, "-p", String(broker.port), "-t", topic, "-q", "1",
                    "-C", String(count), "-W", "120", "-F", "%U", "-i", "bench-wrapper-rawsub",
                ]).output.split(separator: "\n")
                return (stamps.count, stamps.last.flatMap { Double($0) } ?? Date().timeIntervalSince1970)
            }
            try await Task.sleep(for: .milliseconds(300)) // let the subscription settle
        } else {
            let subscriber = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "bench-sub"))
            try await subscriber.connect()
            try await subscriber.subscribe(topic, qos: .atLeastOnce)
            received = Task.detached { [count] in
                var seen = 0
                var last = Date().timeIntervalSince1970
                for await _ in subscriber.messages {
                    seen += 1
                    if seen == count { last = Date().timeIntervalSince1970; break }
                }
                subscriber.close()
                return (seen, last)
            }
        }

        let start = Date().timeIntervalSince1970
        try await withThrowingTaskGroup(of: Void.self) { group in
            var started = 0
            while started < count {
                if started >= window { try await group.next() }
                group.addTask { try await publisher.publish(topic: topic, payload: payload, qos: .atLeastOnce) }
                started += 1
            }
            try await group.waitForAll()
        }
        let (delivered, last) = try await received.value
        return Result(delivered: delivered, seconds: last - start)
    }
}
