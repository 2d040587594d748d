import Foundation
import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    /// The broker configuration the project recommends (config/mosquitto/).
    @Suite struct ProjectBrokerConfig {
        private let passwords = ["dev-a": "pw-a", "dev-b": "pw-b", "fieldproof-aggregator": "pw-agg"]

        private func broker() async throws -> MosquittoBroker {
            let directory = try TemporaryDirectory.make(prefix: "project-broker")
            return try await MosquittoBroker(configuration: ProjectBrokerConfiguration.make(passwords: passwords, in: directory))
        }

        private func login(_ broker: MosquittoBroker, _ user: String, v5: Bool = true, clientID: String? = nil,
                           cleanSession: Bool = true) async throws -> MQTTClient {
            try await connectedClient(broker, clientID ?? user) {
                $0.username = user
                $0.password = passwords[user]
                $0.protocolVersion = v5 ? .v5 : .v311
                $0.cleanSession = cleanSession
            }
        }

        @Test func aDeviceCannotPublishUnderAnotherDevicesTopic() async throws {
            let broker = try await broker()
            let aggregator = try await login(broker, "fieldproof-aggregator")
            let inbox = Collector(aggregator)
            try await aggregator.subscribe("fieldproof/v1/+/telemetry")

            let deviceA = try await login(broker, "dev-a")
            try await deviceA.publish(topic: "fieldproof/v1/dev-a/telemetry", payload: Array("mine".utf8))
            await #expect {
                try await deviceA.publish(topic: "fieldproof/v1/dev-b/telemetry", payload: Array("forged".utf8))
            } throws: { error in
                guard case let MQTTError.publishRejected(_, reason) = error else { return false }
                return reason.lowercased().contains("not authori")
            }
            // Over MQTT 3.1.1 the broker cannot say no; it must still drop it.
            let deviceA311 = try await login(broker, "dev-a", v5: false, clientID: "dev-a-311")
            try await deviceA311.publish(topic: "fieldproof/v1/dev-b/telemetry", payload: Array("forged-311".utf8))
            try await deviceA311.publish(topic: "fieldproof/v1/dev-a/telemetry", payload: Array("mine-311".utf8))

            // mosquitto forwards one client's publishes in the order they came:
            // a forged message let through would arrive before the one after it.
            #expect(await inbox.wait(for: 2))
            let seen = inbox.messages.map { "\($0.topic) \(String(decoding: $0.payload, as: UTF8.self))" }
            #expect(seen.sorted() == ["fieldproof/v1/dev-a/telemetry mine", "fieldproof/v1/dev-a/telemetry mine-311"])
        }

        /// mosquitto accepts the subscription but its ACL filters delivery:
        /// of acks and of log receipts, which only the aggregator writes.
        @Test(arguments: ["ack", "log"])
        func aDeviceReceivesOnlyItsOwnAnswers(kind: String) async throws {
            let broker = try await broker()
            let deviceA = try await login(broker, "dev-a")
            let inboxA = Collector(deviceA)
            try await deviceA.subscribe("fieldproof/v1/+/\(kind)")
            let deviceB = try await login(broker, "dev-b")
            let inboxB = Collector(deviceB)
            try await deviceB.subscribe("fieldproof/v1/dev-b/\(kind)")
            // A device cannot write answers, not even its own: the broker refuses.
            for target in ["dev-a", "dev-b"] {
                await #expect(throws: (any Error).self) {
                    try await deviceB.publish(topic: "fieldproof/v1/\(target)/\(kind)", payload: Array("forged".utf8))
                }
            }
            let aggregator = try await login(broker, "fieldproof-aggregator")
            try await aggregator.publish(topic: "fieldproof/v1/dev-b/\(kind)", payload: Array("for b".utf8))
            try await aggregator.publish(topic: "fieldproof/v1/dev-a/\(kind)", payload: Array("for a".utf8))
            // Published b's first: had the ACL let it through to dev-a, it
            // would be dev-a's first message.
            #expect(await inboxA.wait(for: 1))
            #expect(await inboxB.wait(for: 1))
            #expect(inboxA.messages.map(\.topic) == ["fieldproof/v1/dev-a/\(kind)"])
            #expect(inboxB.messages.map(\.topic) == ["fieldproof/v1/dev-b/\(kind)"])
            #expect(inboxA.messages.map(\.payload) == [Array("for a".utf8)] && inboxB.messages.map(\.payload) == [Array("for b".utf8)])
        }

        /// Before pairing a device reads the aggregator's retained keys; only
        /// the aggregator may publish them (a device could otherwise plant
        /// its own for the next device to find — the fingerprint would still
        /// refuse them, but the real ones would be gone).
        @Test func onlyTheAggregatorPublishesItsKeysAndDevicesReadThem() async throws {
            let broker = try await broker()
            let aggregator = try await login(broker, "fieldproof-aggregator")
            try await aggregator.publish(topic: "fieldproof/v1/aggregator/keys", payload: Array("real".utf8), retain: true)
            let deviceA = try await login(broker, "dev-a")
            await #expect {
                try await deviceA.publish(topic: "fieldproof/v1/aggregator/keys", payload: Array("planted".utf8), retain: true)
            } throws: { error in
                guard case let MQTTError.publishRejected(_, reason) = error else { return false }
                return reason.lowercased().contains("not authori")
            }
            let deviceB = try await login(broker, "dev-b")
            let inbox = Collector(deviceB)
            try await deviceB.subscribe("fieldproof/v1/aggregator/keys")
            // One retained message per topic, sent on subscribing: "planted"
            // would have replaced "real".
            #expect(await inbox.wait(for: 1))
            #expect(inbox.messages.map { String(decoding: $0.payload, as: UTF8.self) } == ["real"])
        }

        /// mosquitto's default max_queued_messages (1000) would drop all but
        /// 1000 of these for an aggregator that is away; ours keeps them.
        @Test func anAggregatorThatIsAwayMissesNothing() async throws {
            let broker = try await broker()
            let away = try await login(broker, "fieldproof-aggregator", clientID: "agg-1", cleanSession: false)
            try await away.subscribe("fieldproof/v1/+/telemetry", qos: .atLeastOnce)
            away.close()

            let device = try await login(broker, "dev-a")
            let total = 3000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<total {
                    if index >= 200 { try await group.next() }
                    group.addTask {
                        try await device.publish(topic: "fieldproof/v1/dev-a/telemetry", payload: Array(String(index).utf8))
                    }
                }
                try await group.waitForAll()
            }

            let back = try await login(broker, "fieldproof-aggregator", clientID: "agg-1", cleanSession: false)
            let inbox = Collector(back)
            #expect(await inbox.wait(for: total, seconds: 30))
            #expect(Set(inbox.messages.map { String(decoding: $0.payload, as: UTF8.self) }).count == total)
        }
    }
}
