import Foundation
import MQTT
import Testing
import TestSupport
import Synchronization

/// The MQTT tests share one parent suite that runs serially: they count the
/// process's MQTT threads and sockets, which parallel tests would disturb.
@Suite(.serialized) struct MQTTSuite {}

func client(_ broker: MosquittoBroker, _ id: String, configure: (inout MQTTConfiguration) -> Void = { _ in }) throws -> MQTTClient {
    var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: id)
    configure(&config)
    return try MQTTClient(configuration: config)
}

func connectedClient(_ broker: MosquittoBroker, _ id: String, configure: (inout MQTTConfiguration) -> Void = { _ in }) async throws -> MQTTClient {
    let c = try client(broker, id, configure: configure)
    try await c.connect()
    return c
}

/// Collects messages from a client's stream in the background.
final class Collector: Sendable {
    private let received = Mutex<[MQTTMessage]>([])

    init(_ client: MQTTClient) {
        Task.detached { [weak self] in
            for await message in client.messages {
                self?.append(message)
            }
        }
    }

    private func append(_ message: MQTTMessage) {
        received.withLock { $0.append(message) }
    }

    var messages: [MQTTMessage] { received.withLock { $0 } }
    var count: Int { received.withLock { $0.count } }

    /// Waits until `count` messages arrived or `seconds` passed.
    @discardableResult
    func wait(for expected: Int, seconds: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if count >= expected { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return count >= expected
    }
}

/// Waits until the broker has routed everything `publisher` sent before:
/// subscribes `subscriber` to a fresh marker topic, publishes a marker to it
/// and waits for the marker in `inbox`. mosquitto routes one client's
/// publishes in order, so a message that was going to reach `subscriber`
/// is there first. Event-based instead of a fixed settle; the marker stays
/// in `inbox` (see `Collector.withoutMarkers`).
func flush(from publisher: MQTTClient, to subscriber: MQTTClient, inbox: Collector, seconds: Double = 10) async throws -> Bool {
    let topic = Collector.markerPrefix + UUID().uuidString.prefix(8)
    try await subscriber.subscribe(topic, qos: .atLeastOnce)
    try await publisher.publish(topic: topic, payload: [], qos: .atLeastOnce)
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if inbox.messages.contains(where: { $0.topic == topic }) { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return false
}

extension Collector {
    static let markerPrefix = "flush-marker/"
    /// What arrived, without `flush` markers.
    var withoutMarkers: [MQTTMessage] { messages.filter { !$0.topic.hasPrefix(Self.markerPrefix) } }
}

/// Waits for a state on a client's connection-state stream.
func waitForState(_ client: MQTTClient, seconds: Double = 15, _ matches: @escaping @Sendable (MQTTConnectionState) -> Bool) async -> MQTTConnectionState? {
    await withTaskGroup(of: MQTTConnectionState?.self) { group in
        group.addTask {
            for await state in client.connectionStates where matches(state) { return state }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// A flag a background task raises when it is done.
final class DoneFlag: Sendable {
    private let raised = Mutex(false)
    func raise() { raised.withLock { $0 = true } }
    var isRaised: Bool { raised.withLock { $0 } }
}

/// How `task` ended, or nil when it had not ended after `seconds` (it is
/// cancelled then): lets a test tell "failed" from "still waiting".
func outcome(of task: Task<Void, any Error>, within seconds: Double) async -> Result<Void, any Error>? {
    await withTaskGroup(of: Result<Void, any Error>?.self) { group in
        group.addTask { await task.result }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = await group.next() ?? nil
        if first == nil { task.cancel() }
        group.cancelAll()
        return first
    }
}
