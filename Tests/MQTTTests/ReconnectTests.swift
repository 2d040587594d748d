import Foundation
@testable import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    @Suite struct Reconnect {
        /// The broker (with persistence) stops and comes back on the same
        /// port. Both clients reconnect by themselves; QoS 1 publishes made
        /// during the outage complete after it; a persistent-session
        /// subscriber that was away gets what was published meanwhile.
        @Test func clientsReconnectAndPersistentSessionGetsWhatWasMissed() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.persistentConfiguration)
            let fastRetry = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(400), jitter: 0.2)
            let publisher = try await connectedClient(broker, "pub") { $0.reconnect = fastRetry }
            var subscriber: MQTTClient? = try await connectedClient(broker, "persistent-sub") {
                $0.cleanSession = false
                $0.reconnect = fastRetry
            }
            try await subscriber?.subscribe("away/#", qos: .atLeastOnce)

            broker.stop()
            let down = await waitForState(publisher) { if case .disconnected = $0 { return true } else { return false } }
            #expect(down != nil, "the publisher reports the outage")
            let duringOutage = Task { try await publisher.publish(topic: "away/during-outage", payload: [42], qos: .atLeastOnce) }

            try broker.start()
            #expect(await waitForState(publisher) { $0 == .connected } != nil, "publisher reconnects by itself")
            try await duringOutage.value

            // The subscriber goes away cleanly; its session stays on the broker.
            subscriber?.close()
            subscriber = nil
            for index in 0..<50 {
                try await publisher.publish(topic: "away/\(index)", payload: [UInt8(index)], qos: .atLeastOnce)
            }

            let returning = try await connectedClient(broker, "persistent-sub") { $0.cleanSession = false }
            let inbox = Collector(returning)
            #expect(await inbox.wait(for: 50, seconds: 10))
            let topics = Set(inbox.messages.map(\.topic))
            #expect(topics.isSuperset(of: Set((0..<50).map { "away/\($0)" })))
        }

        /// A client deep in a long backoff reconnects as soon as it is told
        /// the broker is back (`retryNow()`, which the aggregator calls when
        /// its other connection returns), not when the backoff ends.
        @Test func retryNowEndsTheBackoffWait() async throws {
            let broker = try MosquittoBroker()
            let client = try await connectedClient(broker, "patient") {
                $0.reconnect = MQTTReconnectPolicy(initialDelay: .seconds(30), maximumDelay: .seconds(30), jitter: 0)
            }
            broker.stop()
            #expect(await waitForState(client) { if case .disconnected = $0 { return true } else { return false } } != nil)
            try broker.start()
            try await Task.sleep(for: .milliseconds(500))
            #expect(!client.isConnected, "still waiting out its 30 s backoff")
            let asked = ContinuousClock.now
            client.retryNow()
            #expect(await waitForState(client, seconds: 5) { $0 == .connected } != nil)
            #expect(ContinuousClock.now - asked < .seconds(5))
        }

        /// Without a session (clean session on), the client renews its
        /// subscriptions itself after reconnecting.
        @Test func subscriptionsAreRenewedAfterReconnectWithoutSession() async throws {
            let broker = try MosquittoBroker()
            let fastRetry = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
            let subscriber = try await connectedClient(broker, "sub") { $0.reconnect = fastRetry }
            let inbox = Collector(subscriber)
            try await subscriber.subscribe("renew/t")
            try broker.restart()
            #expect(await waitForState(subscriber) { $0 == .connected } != nil)
            let publisher = try await connectedClient(broker, "pub")
            // The renewed SUBSCRIBE may still be on its way: publish until one arrives.
            let deadline = ContinuousClock.now + .seconds(10)
            while inbox.count == 0, ContinuousClock.now < deadline {
                try await publisher.publish(topic: "renew/t", payload: [7])
                _ = await inbox.wait(for: 1, seconds: 0.05)
            }
            #expect(inbox.count >= 1)
        }

        /// libmosquitto forgets an unanswered SUBSCRIBE (and a QoS 0 publish
        /// not yet written) when the connection drops; only QoS 1/2 publishes
        /// are sent again. The broker is frozen so the SUBACK cannot come,
        /// then killed: the subscribe must end with `notConnected` instead of
        /// waiting forever, while the QoS 1 publish made beside it completes
        /// once the broker is back.
        @Test func aSubscribeTheConnectionTookWithItFailsButAQoS1PublishIsSentAgain() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.persistentConfiguration)
            let fastRetry = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
            let client = try await connectedClient(broker, "forgotten") {
                $0.reconnect = fastRetry
                $0.cleanSession = false
            }
            let pid = try #require(broker.pid)
            kill(pid, SIGSTOP)
            let subscribe = Task { try await client.subscribe("forgotten/t", qos: .atLeastOnce) }
            let publish = Task { try await client.publish(topic: "forgotten/p", payload: [1], qos: .atLeastOnce) }
            // Time for both packets to reach libmosquitto's queue: nothing
            // observable says they have, and a frozen broker answers nothing.
            try await Task.sleep(for: .milliseconds(300))
            broker.kill()
            switch await outcome(of: subscribe, within: 10) {
            case nil:
                Issue.record("the subscribe still waits 10 s after its connection was lost")
            case .success:
                Issue.record("the subscribe cannot have been answered by a frozen broker")
            case let .failure(error):
                #expect(error as? MQTTError == .notConnected, "\(error)")
            }
            try broker.start()
            #expect(await waitForState(client) { $0 == .connected } != nil)
            let published = await outcome(of: publish, within: 10)
            #expect(published != nil, "the QoS 1 publish was sent again after the reconnect")
            try published?.get()
            try await client.subscribe("forgotten/t", qos: .atLeastOnce) // works again on the new connection
        }

        @Test func startKeepsTryingUntilTheBrokerAppears() async throws {
            let port = try LoopbackNetwork.freePort()
            var config = MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "patient")
            config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(200))
            let patient = try MQTTClient(configuration: config)
            patient.start()
            let failure = await waitForState(patient) { if case .disconnected = $0 { return true } else { return false } }
            guard case let .disconnected(reason) = failure else {
                Issue.record("expected a disconnected state while no broker listens")
                return
            }
            #expect(reason.contains("127.0.0.1:\(port)"))
            let broker = try MosquittoBroker(port: port)
            #expect(await waitForState(patient) { $0 == .connected } != nil)
            #expect(patient.isConnected)
            _ = broker
        }
    }
}
