import Foundation
@testable import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    @Suite struct BadInput {
        @Test func connectingWhereNoBrokerListensNamesHostPortAndReason() async throws {
            let port = try LoopbackNetwork.freePort()
            let client = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "lonely"))
            await #expect {
                try await client.connect()
            } throws: { error in
                guard case let MQTTError.connectionFailed(host, errorPort, reason) = error else { return false }
                return host == "127.0.0.1" && errorPort == port && reason == "Connection refused"
                    && String(describing: error) == "cannot connect to MQTT broker at 127.0.0.1:\(port): Connection refused"
            }
        }

        @Test func publishRefusesWildcardsAndEmptyTopics() async throws {
            let broker = try MosquittoBroker()
            let client = try await connectedClient(broker, "pub")
            for topic in ["fieldproof/v1/+/telemetry", "fieldproof/#", ""] {
                await #expect {
                    try await client.publish(topic: topic, payload: [1])
                } throws: { error in
                    guard case let MQTTError.invalidTopic(badTopic, reason) = error else { return false }
                    return badTopic == topic && (topic.isEmpty ? reason.contains("empty") : reason.contains("wildcards"))
                }
            }
        }

        @Test func oversizedPayloadIsRefusedByTheBrokerOverMQTT5() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.plainConfiguration + "\nmessage_size_limit 1024\n")
            let client = try await connectedClient(broker, "big") { $0.protocolVersion = .v5 }
            try await client.publish(topic: "size/ok", payload: [UInt8](repeating: 1, count: 1000))
            await #expect {
                try await client.publish(topic: "size/big", payload: [UInt8](repeating: 1, count: 2048))
            } throws: { error in
                guard case let MQTTError.publishRejected(topic, reason) = error else { return false }
                return topic == "size/big" && reason.lowercased().contains("too large")
            }
        }

        @Test func oversizedPayloadIsRefusedBeforeSendingWithAConfiguredLimit() async throws {
            let broker = try MosquittoBroker()
            let client = try await connectedClient(broker, "big311") { $0.maximumPayloadSize = 1024 }
            await #expect(throws: MQTTError.payloadTooLarge(size: 4096, limit: 1024)) {
                try await client.publish(topic: "size/big", payload: [UInt8](repeating: 0, count: 4096))
            }
        }

        @Test func oversizedPayloadIsRefusedWhenTheBrokerAnnouncesItsMaximumPacketSize() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.plainConfiguration + "\nmax_packet_size 2000\n")
            let client = try await connectedClient(broker, "big-announced") { $0.protocolVersion = .v5 }
            await #expect {
                try await client.publish(topic: "size/big", payload: [UInt8](repeating: 0, count: 4096))
            } throws: { error in
                guard case let MQTTError.payloadTooLarge(size, limit) = error else { return false }
                return size == 4096 && limit == 2000
            }
        }

        @Test func invalidSubscriptionFiltersAreRefused() async throws {
            let broker = try MosquittoBroker()
            let client = try await connectedClient(broker, "subs")
            for filter in ["a/#/b", "a/b+", "", "$share//x", "$share/g"] {
                await #expect(throws: MQTTError.self) { try await client.subscribe(filter) }
            }
        }

        @Test func topicRules() {
            #expect(TopicRules.publishProblem("fieldproof/v1/dev-1/telemetry") == nil)
            #expect(TopicRules.publishProblem("a/+/b") != nil)
            #expect(TopicRules.filterProblem("fieldproof/v1/+/telemetry") == nil)
            #expect(TopicRules.filterProblem("$share/aggregators/fieldproof/v1/+/telemetry") == nil)
            #expect(TopicRules.filterProblem("#") == nil)
            #expect(TopicRules.filterProblem("a/#/b") != nil)
            #expect(TopicRules.filterProblem("a+/b") != nil)
        }

        @Test func operationsAfterCloseFailClearly() async throws {
            let broker = try MosquittoBroker()
            let client = try await connectedClient(broker, "closer")
            client.close()
            client.close()
            await #expect(throws: MQTTError.closed) { try await client.publish(topic: "a", payload: [1]) }
        }

        @Test func badCredentialsAreARefusalWithTheReason() async throws {
            let directory = try TemporaryDirectory.make(prefix: "auth")
            let config = try await ProjectBrokerConfiguration.make(passwords: ["dev-a": "right"], in: directory)
            let broker = try MosquittoBroker(configuration: config)
            let client = try client(broker, "dev-a") { $0.username = "dev-a"; $0.password = "wrong" }
            await #expect {
                try await client.connect()
            } throws: { error in
                guard case let MQTTError.connectionRefused(_, _, reason) = error else { return false }
                return reason.lowercased().contains("not authori")
            }
        }
    }
}
