/// Errors from the MQTT client. Each description names what went wrong and,
/// where it helps, what to check.
public enum MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP (or TLS) connection could not be made.
    case connectionFailed(host: String, port: Int, reason: String)
    /// The broker answered CONNECT with a refusal.
    case connectionRefused(host: String, port: Int, reason: String)
    /// The operation needs a connection and there is none.
    case notConnected
    /// `close()` was called while the operation was waiting.
    case closed
    /// A topic name that may not be published to.
    case invalidTopic(topic: String, reason: String)
    /// A subscription filter that is not valid.
    case invalidFilter(filter: String, reason: String)
    /// The payload is larger than the configured or broker-announced limit.
    case payloadTooLarge(size: Int, limit: Int)
    /// The broker refused a publish (MQTT 5 PUBACK reason code >= 0x80).
    case publishRejected(topic: String, reason: String)
    /// The broker refused a subscription (SUBACK 0x80 or an MQTT 5 reason code).
    case subscriptionRejected(filter: String, reason: String)
    /// A TLS file named in the configuration cannot be read.
    case tlsFileUnreadable(role: String, path: String)
    /// A configuration value libmosquitto refused.
    case invalidConfiguration(String)
    /// Any other libmosquitto error.
    case library(operation: String, reason: String)

    public var description: String {
        switch self {
        case let .connectionFailed(host, port, reason):
            return "cannot connect to MQTT broker at \(host):\(port): \(reason)"
        case let .connectionRefused(host, port, reason):
            return "MQTT broker at \(host):\(port) refused the connection: \(reason)"
        case .notConnected:
            return "not connected to the MQTT broker"
        case .closed:
            return "the MQTT client was closed"
        case let .invalidTopic(topic, reason):
            return "cannot publish to topic \"\(topic)\": \(reason)"
        case let .invalidFilter(filter, reason):
            return "invalid subscription filter \"\(filter)\": \(reason)"
        case let .payloadTooLarge(size, limit):
            return "payload of \(size) bytes is over the broker's message size limit of \(limit) bytes"
        case let .publishRejected(topic, reason):
            return "broker rejected the message on \"\(topic)\": \(reason)"
        case let .subscriptionRejected(filter, reason):
            return "broker rejected the subscription to \"\(filter)\": \(reason)"
        case let .tlsFileUnreadable(role, path):
            return "TLS \(role) file \(path) does not exist or is not readable"
        case let .invalidConfiguration(what):
            return "invalid MQTT configuration: \(what)"
        case let .library(operation, reason):
            return "MQTT \(operation) failed: \(reason)"
        }
    }
}
