/// One message received on a subscription.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// What the connection is doing; delivered on `MQTTClient.connectionStates`.
public enum MQTTConnectionState: Sendable, Equatable {
    case connected
    /// The connection is down; `reason` says why (broker went away, refused,
    /// TLS failure, ...). The client keeps retrying unless it was closed.
    case disconnected(reason: String)
}
