/// Quality of service of a publish or a subscription.
public enum QoS: Int32, Sendable, Comparable {
    /// Fire and forget: `publish` completes once the message is written to the socket.
    case atMostOnce = 0
    /// Acknowledged: `publish` completes once the broker's PUBACK arrives.
    case atLeastOnce = 1
    /// Assured: `publish` completes once the broker's PUBCOMP arrives.
    case exactlyOnce = 2

    public static func < (lhs: QoS, rhs: QoS) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The MQTT protocol revision spoken on the connection.
public enum MQTTProtocolVersion: Sendable {
    case v311
    case v5
}

/// TLS settings. The server's certificate is always verified against `caFile`
/// and its name is always checked against the host we connect to.
public struct MQTTTLSConfiguration: Sendable, Equatable {
    /// PEM file with the certificate authority (or authorities) to trust.
    public var caFile: String
    /// PEM client certificate, when the broker asks clients for one.
    public var certificateFile: String?
    /// PEM private key that goes with `certificateFile`.
    public var keyFile: String?

    public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// The message the broker publishes for us when we vanish without a DISCONNECT.
public struct MQTTWill: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = true) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// How long to wait between reconnect attempts: exponential growth from
/// `initialDelay`, capped at `maximumDelay`, each delay spread by up to
/// `jitter` (a fraction) so a fleet that lost its broker together does not
/// come back in lock step.
public struct MQTTReconnectPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    public var jitter: Double

    public init(
        initialDelay: Duration = .milliseconds(250),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }
}

/// Everything needed to open and keep one MQTT connection.
public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    /// Seconds between PINGREQs when the connection is otherwise idle.
    public var keepAlive: Int = 30
    /// `false` asks the broker to keep our subscriptions and queued QoS 1
    /// messages while we are away (with MQTT 5 for `sessionExpiry` seconds).
    public var cleanSession: Bool = true
    /// MQTT 5 session expiry sent when `cleanSession` is false.
    public var sessionExpiry: UInt32 = 7 * 24 * 3600
    public var username: String?
    public var password: String?
    public var tls: MQTTTLSConfiguration?
    public var protocolVersion: MQTTProtocolVersion = .v311
    public var will: MQTTWill?
    public var reconnect = MQTTReconnectPolicy()
    /// QoS 1/2 messages allowed on the wire without their acknowledgement;
    /// more wait in the client's queue. libmosquitto's default is 20.
    public var maximumInflight: Int = 100
    /// Largest payload we let `publish` send. A broker speaking MQTT 3.1.1
    /// drops a message over its `message_size_limit` without telling the
    /// sender, so the limit must be known here; set it to the broker's.
    public var maximumPayloadSize: Int?
    /// Received messages held for a slow consumer before the network thread
    /// stops reading (back-pressure through TCP to the broker). nil: no limit.
    public var incomingQueueLimit: Int?

    public init(host: String, port: Int, clientID: String) {
        self.host = host
        self.port = port
        self.clientID = clientID
    }
}
