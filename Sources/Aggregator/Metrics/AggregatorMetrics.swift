import CoreMetrics
import Prometheus

/// The aggregator's Prometheus metrics, through swift-metrics with a
/// factory of our own (no process-wide bootstrap, so several aggregators —
/// tests, benchmarks — can live in one process).
public final class AggregatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    public let accepted: CoreMetrics.Counter
    public let queueDepth: CoreMetrics.Gauge
    public let verifyLatency: CoreMetrics.Timer
    public let commitLatency: CoreMetrics.Timer
    /// Messages that arrived with the bytes already stored (the device
    /// re-sent for want of an ack): acknowledged again, not rejected.
    public let redelivered: CoreMetrics.Counter
    /// Messages the store could not commit after its tries, kept in the
    /// dead-letter table (`GET /api/v1/dead-letters`).
    public let deadLettered: CoreMetrics.Counter

    /// The closed set of rejection reasons, so each series exists from the start.
    public static let rejectionReasons = ["malformed", "oversized", "unknown_device", "revoked_key", "bad_signature",
                                          "topic_serial_mismatch", "timestamp_in_future", "non_finite_value",
                                          "value_out_of_range", "sequence_out_of_range", "timestamp_out_of_range",
                                          "ms_since_boot_out_of_range", "sequence_conflict"]

    /// How pairing requests ended: the decisions, `unopened` (not sealed to
    /// us, altered, or not signed by the key it carries: never answered) and
    /// `dropped` (more arrived at once than are judged at once).
    public static let pairingOutcomes = ["accepted", "wrong_pin", "expired", "locked", "already_used", "unknown_serial", "revoked", "stale",
                                         "unopened", "dropped"]

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        ]
        self.factory = factory
        accepted = CoreMetrics.Counter(label: "fieldproof_messages_accepted_total", factory: factory)
        redelivered = CoreMetrics.Counter(label: "fieldproof_messages_redelivered_total", factory: factory)
        deadLettered = CoreMetrics.Counter(label: "fieldproof_messages_dead_lettered_total", factory: factory)
        queueDepth = CoreMetrics.Gauge(label: "fieldproof_verify_queue_depth", factory: factory)
        verifyLatency = CoreMetrics.Timer(label: "fieldproof_verify_duration_seconds", factory: factory)
        commitLatency = CoreMetrics.Timer(label: "fieldproof_store_commit_duration_seconds", factory: factory)
        for reason in Self.rejectionReasons {
            _ = rejectedCounter(reason: reason)
        }
        for outcome in Self.pairingOutcomes {
            _ = pairingCounter(outcome: outcome)
        }
        for connection in Self.brokerConnections {
            for event in ["connected", "lost"] { _ = brokerConnectionCounter(connection: connection, event: event) }
            brokerConnected(connection: connection).record(0)
        }
    }

    public func pairingCounter(outcome: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "fieldproof_pairing_requests_total", dimensions: [("outcome", outcome)], factory: factory)
    }

    public func pairing(outcome: String) {
        pairingCounter(outcome: outcome).increment()
    }

    /// How add-checkpoint requests to a witness ended: `cosigned`, `refused`
    /// (an HTTP error, or its recorded size is past our log), `invalid` (an
    /// answer without a valid cosignature from its key) and `unreachable`
    /// (no connection, or no answer within `log.witness_timeout`); `error`:
    /// the aggregator could not make the request (its store failed).
    public static let witnessOutcomes = ["cosigned", "refused", "invalid", "unreachable", "error"]

    public func witnessCounter(url: String, outcome: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "fieldproof_witness_requests_total", dimensions: [("witness", url), ("outcome", outcome)], factory: factory)
    }

    /// The size of the newest checkpoint that reached the witness quorum.
    public var cosignedSize: CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "fieldproof_log_cosigned_size", factory: factory)
    }

    /// The aggregator's two broker connections: `intake` (telemetry and
    /// pairing requests in) and `outgoing` (Acks, receipts, answers out).
    public static let brokerConnections = ["intake", "outgoing"]

    /// Connection changes: `event` is `connected` or `lost` (a lost
    /// connection, or a connect attempt that failed after one).
    public func brokerConnectionCounter(connection: String, event: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "fieldproof_broker_connection_changes_total", dimensions: [("connection", connection), ("event", event)],
                            factory: factory)
    }

    /// 1 while the connection is up, 0 while it is down.
    public func brokerConnected(connection: String) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: "fieldproof_broker_connected", dimensions: [("connection", connection)], factory: factory)
    }

    public func rejectedCounter(reason: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "fieldproof_messages_rejected_total", dimensions: [("reason", reason)], factory: factory)
    }

    public func rejected(reason: String) {
        rejectedCounter(reason: reason).increment()
    }

    /// The Prometheus text exposition format (version 0.0.4).
    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
