import Aggregator
@testable import fieldproof_aggregator
import Foundation
import Logging
import MQTT
import Testing
import TestSupport

/// The aggregator's two connections back off on their own; the watch brings
/// them back together. Here one retries every 50 ms and the other waits
/// 30 s between tries: after a broker restart the slow one is back soon
/// after the fast one, not 30 s later, and the metrics count each change.
@Suite struct BrokerConnectionWatchTests {
    func client(_ broker: MosquittoBroker, _ id: String, retry: Duration) throws -> MQTTClient {
        var configuration = MQTTConfiguration(host: broker.host, port: broker.port, clientID: id)
        configuration.reconnect = MQTTReconnectPolicy(initialDelay: retry, maximumDelay: retry, jitter: 0)
        return try MQTTClient(configuration: configuration)
    }

    @Test func whenOneConnectionIsBackTheOtherRetriesAtOnce() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let fast = try client(broker, "intake", retry: .milliseconds(50))
        let slow = try client(broker, "outgoing", retry: .seconds(30))
        defer { fast.close(); slow.close() }
        try await fast.connect()
        try await slow.connect()
        let metrics = AggregatorMetrics()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let watch = BrokerConnectionWatch(connections: [.init(name: "intake", client: fast), .init(name: "outgoing", client: slow)],
                                          metrics: metrics, logger: logger)
        let running = Task { try await watch.run() }
        defer { running.cancel() }

        func waitUntil(_ condition: () -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + .seconds(10)
            while !condition(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            return condition()
        }
        #expect(await waitUntil { metrics.render().contains("fieldproof_broker_connected{connection=\"outgoing\"} 1") })
        broker.stop()
        #expect(await waitUntil { !fast.isConnected && !slow.isConnected })
        try await Task.sleep(for: .milliseconds(300)) // both are waiting: the slow one for 30 s
        try broker.start()
        #expect(await waitUntil { fast.isConnected }, "the fast connection is back")
        let fastBack = ContinuousClock.now
        #expect(await waitUntil { slow.isConnected }, "the slow one follows")
        // Within a second here when idle, up to two under the full suite's
        // load (the watch runs on the shared cooperative pool); never the 30 s.
        #expect(ContinuousClock.now - fastBack < .seconds(10), "soon after the fast one, not after its 30 s backoff")
        let text = metrics.render()
        for connection in ["intake", "outgoing"] {
            #expect(await waitUntil { metrics.render().contains("fieldproof_broker_connection_changes_total{connection=\"\(connection)\",event=\"connected\"} 2") },
                    "\(metrics.render())")
            #expect(text.contains("fieldproof_broker_connection_changes_total{connection=\"\(connection)\",event=\"lost\"} 1"), "\(text)")
        }
    }
}
