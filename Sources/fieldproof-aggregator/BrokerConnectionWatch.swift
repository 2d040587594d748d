import Aggregator
import Logging
import MQTT
import ServiceLifecycle

/// Watches the aggregator's two broker connections: logs every change with
/// the broker's host:port and the reason, counts it in `/metrics`, and when
/// one connection is back asks the other to retry at once. Each connection
/// backs off on its own, so without this, after a broker restart, intake
/// could be back in a second while Acks waited out the rest of a long
/// backoff, and every device re-sent its spool meanwhile.
struct BrokerConnectionWatch: Service {
    struct Connection: Sendable {
        /// `intake` or `outgoing`, as in `AggregatorMetrics.brokerConnections`.
        let name: String
        let client: MQTTClient
    }

    let connections: [Connection]
    let metrics: AggregatorMetrics
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for connection in connections {
                let others = connections.filter { $0.name != connection.name }.map(\.client)
                group.addTask { await watch(connection, nudging: others) }
            }
        }
    }

    private func watch(_ connection: Connection, nudging others: [MQTTClient]) async {
        let broker = "\(connection.client.configuration.host):\(connection.client.configuration.port)"
        let metadata: Logger.Metadata = ["connection": "\(connection.name)", "broker": "\(broker)"]
        let connected = metrics.brokerConnected(connection: connection.name)
        var up = false
        for await state in connection.client.connectionStates.cancelOnGracefulShutdown() {
            switch state {
            case .connected:
                up = true
                connected.record(1)
                metrics.brokerConnectionCounter(connection: connection.name, event: "connected").increment()
                logger.info("broker connection up", metadata: metadata)
                for other in others { other.retryNow() }
            case .disconnected(let reason):
                if up {
                    up = false
                    connected.record(0)
                    metrics.brokerConnectionCounter(connection: connection.name, event: "lost").increment()
                    logger.warning("broker connection lost; reconnecting", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
                } else {
                    logger.info("broker still unreachable; retrying", metadata: metadata.merging(["reason": "\(reason)"]) { $1 })
                }
            }
        }
    }
}
