#if canImport(Glibc)
import Glibc
#endif

/// One MQTT connection over libmosquitto.
///
/// ```swift
/// var config = MQTTConfiguration(host: "127.0.0.1", port: 1883, clientID: "dev-1")
/// let client = try MQTTClient(configuration: config)
/// try await client.connect()
/// try await client.publish(topic: "a/b", payload: [1, 2, 3], qos: .atLeastOnce)
/// client.close()
/// ```
///
/// After the first connection the client reconnects by itself (capped
/// exponential backoff with jitter) and reports each change on
/// `connectionStates`. Received messages arrive on `messages` (one consumer).
/// `close()` (or `deinit`) disconnects cleanly and joins the network thread.
public final class MQTTClient: Sendable {
    private let connection: MosquittoConnection
    /// Messages from every subscription, in the order the broker sent them
    /// (one consumer). Bounded by `MQTTConfiguration.incomingQueueLimit`.
    public let messages: MQTTMessageStream
    /// Connected / disconnected (with the reason) as they happen.
    public let connectionStates: AsyncStream<MQTTConnectionState>

    public var configuration: MQTTConfiguration { connection.configuration }

    public init(configuration: MQTTConfiguration) throws(MQTTError) {
        let queue = MessageQueue(limit: configuration.incomingQueueLimit)
        let (states, stateContinuation) = AsyncStream<MQTTConnectionState>.makeStream(bufferingPolicy: .bufferingNewest(64))
        self.messages = MQTTMessageStream(queue: queue)
        self.connectionStates = states
        self.connection = try MosquittoConnection(configuration: configuration, messages: queue, states: stateContinuation)
    }

    deinit {
        connection.close()
    }

    /// Connects and waits for the broker's CONNACK. Throws when the broker
    /// cannot be reached (naming host:port and the OS reason) or refuses us.
    public func connect() async throws(MQTTError) {
        try await connection.connect()
    }

    /// Starts connecting in the background and keeps retrying until it
    /// succeeds; for a daemon that must run while the broker is away.
    public func start() {
        connection.start()
    }

    /// The kernel thread id of the network thread, while it runs.
    var networkThreadID: pid_t? {
        connection.state.withLock { $0.thread != nil ? $0.threadID : nil }
    }

    /// Whether the connection is up right now.
    public var isConnected: Bool {
        connection.state.withLock { $0.connected }
    }

    /// Publishes one message. With QoS 1 (2) returns when the broker's PUBACK
    /// (PUBCOMP) for it arrives; with QoS 0 once it was written to the socket.
    /// A QoS 1 publish made while disconnected waits for the reconnect.
    public func publish(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = false) async throws {
        try await connection.publish(topic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// Subscribes and waits for SUBACK. Accepts MQTT 5 shared subscriptions
    /// (`$share/<group>/<filter>`). Renewed automatically after a reconnect
    /// that lost the session.
    public func subscribe(_ filter: String, qos: QoS = .atLeastOnce) async throws {
        try await connection.subscribe(filter: filter, qos: qos)
    }

    public func unsubscribe(_ filter: String) async throws {
        try await connection.unsubscribe(filter: filter)
    }

    /// Ends the wait before the next reconnect attempt, if one is under way:
    /// for a client that has just seen the broker come back on another
    /// connection. Does nothing while connected.
    public func retryNow() {
        // Made while disconnected, it ends the wait under way or, between two
        // tries, the next one.
        guard !isConnected else { return }
        connection.retryRequested.store(true, ordering: .sequentiallyConsistent)
    }

    /// Disconnects cleanly (the broker publishes no last will), stops the
    /// network thread and frees the handle. Waiting operations fail with
    /// `MQTTError.closed`. Safe to call more than once.
    public func close() {
        connection.close()
    }
}
