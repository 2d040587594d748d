import ArgumentParser
import Foundation
import MQTT

/// The devices of `bench aggregator`, in a process of their own so that the
/// aggregator's CPU time is the bench process's alone: publishes a stream of
/// pre-signed messages (a `StreamFile`) with QoS 1, `window` in flight.
struct PublishStream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish-stream",
        abstract: "Bench helper: publish the messages of a stream file.",
        shouldDisplay: false
    )

    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option var clientID = "bench-devices"
    @Option var window = 200
    @Option var file: String

    func run() async throws {
        let stream = try StreamFile.read(file)
        var configuration = MQTTConfiguration(host: host, port: port, clientID: clientID)
        configuration.maximumInflight = window
        let publisher = try MQTTClient(configuration: configuration)
        try await publisher.connect()
        defer { publisher.close() }
        try await Self.publish(stream, with: publisher, window: window)
    }

    /// QoS 1, `window` publishes waiting for their PUBACK at most.
    static func publish(_ stream: [(topic: String, payload: [UInt8])], with publisher: MQTTClient, window: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, message) in stream.enumerated() {
                if index >= window { try await group.next() }
                group.addTask { try await publisher.publish(topic: message.topic, payload: message.payload, qos: .atLeastOnce) }
            }
            try await group.waitForAll()
        }
    }
}

/// Messages as `<topic length: 2 bytes BE><topic><payload length: 4 bytes
/// BE><payload>`, one after another: how the bench hands its stream to
/// `publish-stream`.
enum StreamFile {
    struct Malformed: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is not a stream file" }
    }

    static func write(_ stream: [(topic: String, payload: [UInt8])], to path: String) throws {
        var bytes: [UInt8] = []
        for message in stream {
            let topic = Array(message.topic.utf8)
            bytes += [UInt8(topic.count >> 8), UInt8(topic.count & 0xFF)] + topic
            let count = message.payload.count
            bytes += [UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + message.payload
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> [(topic: String, payload: [UInt8])] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var stream: [(topic: String, payload: [UInt8])] = []
        var offset = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count <= bytes.count - offset else { throw Malformed(path: path) }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        while offset < bytes.count {
            let topicLength = try take(2).reduce(0) { $0 << 8 | Int($1) }
            let topic = String(decoding: try take(topicLength), as: UTF8.self)
            let payloadLength = try take(4).reduce(0) { $0 << 8 | Int($1) }
            stream.append((topic, Array(try take(payloadLength))))
        }
        return stream
    }
}
