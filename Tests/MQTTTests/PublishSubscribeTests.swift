import Foundation
import MQTT
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension MQTTSuite {
    @Suite struct PublishSubscribe {
        @Test func qos0AndQos1RoundTrip() async throws {
            let broker = try MosquittoBroker()
            let subscriber = try await connectedClient(broker, "sub")
            let publisher = try await connectedClient(broker, "pub")
            let inbox = Collector(subscriber)
            try await subscriber.subscribe("rt/#", qos: .atLeastOnce)

            try await publisher.publish(topic: "rt/zero", payload: [0, 1, 2, 255], qos: .atMostOnce)
            try await publisher.publish(topic: "rt/one", payload: Array("hello".utf8), qos: .atLeastOnce)
            #expect(await inbox.wait(for: 2))
            let byTopic = Dictionary(uniqueKeysWithValues: inbox.messages.map { ($0.topic, $0) })
            #expect(byTopic["rt/zero"]?.payload == [0, 1, 2, 255])
            #expect(byTopic["rt/zero"]?.qos == .atMostOnce)
            #expect(byTopic["rt/one"]?.payload == Array("hello".utf8))
            #expect(byTopic["rt/one"]?.qos == .atLeastOnce)
            #expect(byTopic["rt/one"]?.retain == false)
            publisher.close()
            subscriber.close()
        }

        @Test func retainedMessageIsFlaggedForALateSubscriber() async throws {
            let broker = try MosquittoBroker()
            let publisher = try await connectedClient(broker, "pub")
            try await publisher.publish(topic: "status/dev-1", payload: Array("online".utf8), qos: .atLeastOnce, retain: true)
            let late = try await connectedClient(broker, "late")
            let inbox = Collector(late)
            try await late.subscribe("status/+")
            #expect(await inbox.wait(for: 1))
            #expect(inbox.messages.first?.retain == true)
            #expect(inbox.messages.first?.payload == Array("online".utf8))
        }

        /// The broker is frozen (SIGSTOP): a QoS 1 publish must not complete
        /// until the broker runs again, acknowledges it and has passed it on;
        /// a QoS 0 publish completes once written.
        @Test func qos1PublishCompletesOnlyAfterPuback() async throws {
            let broker = try MosquittoBroker()
            let subscriber = try await connectedClient(broker, "sub")
            let inbox = Collector(subscriber)
            try await subscriber.subscribe("ack/test", qos: .atLeastOnce)
            let publisher = try await connectedClient(broker, "pub") { $0.keepAlive = 60 }
            let pid = try #require(broker.pid)

            kill(pid, SIGSTOP)
            let zeroDone = DoneFlag()
            let oneDone = DoneFlag()
            let zero = Task { try await publisher.publish(topic: "ack/zero", payload: [0], qos: .atMostOnce); zeroDone.raise() }
            let one = Task { try await publisher.publish(topic: "ack/test", payload: [1], qos: .atLeastOnce); oneDone.raise() }
            // A window, not a settle: a QoS 1 publish wrongly completed on
            // write would have done so as soon as the QoS 0 one.
            try await Task.sleep(for: .milliseconds(700))
            #expect(zeroDone.isRaised, "QoS 0 completes after the write, without the broker")
            #expect(!oneDone.isRaised, "QoS 1 must wait for the PUBACK of a frozen broker")
            #expect(inbox.count == 0)

            kill(pid, SIGCONT)
            try await zero.value
            try await one.value
            #expect(oneDone.isRaised)
            #expect(await inbox.wait(for: 1))
            #expect(inbox.messages.first?.payload == [1])
        }

        @Test func tenThousandQos1PublishesAllArrive() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.plainConfiguration + "\nmax_queued_messages 100000\n")
            let subscriber = try await connectedClient(broker, "sub")
            let inbox = Collector(subscriber)
            try await subscriber.subscribe("bulk", qos: .atLeastOnce)
            let publisher = try await connectedClient(broker, "pub") { $0.maximumInflight = 500 }

            let total = 10_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<total {
                    if index >= 500 { try await group.next() }
                    group.addTask {
                        var payload = [UInt8](repeating: 0, count: 4)
                        withUnsafeBytes(of: UInt32(index).bigEndian) { payload = Array($0) }
                        try await publisher.publish(topic: "bulk", payload: payload, qos: .atLeastOnce)
                    }
                }
                try await group.waitForAll()
            }
            #expect(await inbox.wait(for: total, seconds: 30))
            let seen = Set(inbox.messages.map { $0.payload.reduce(0) { $0 << 8 | Int($1) } })
            #expect(inbox.count == total)
            #expect(seen == Set(0..<total))
        }

        @Test func sharedSubscriptionSplitsTheStreamWithoutLossOrDuplicates() async throws {
            let broker = try MosquittoBroker()
            let first = try await connectedClient(broker, "share-a") { $0.protocolVersion = .v5 }
            let second = try await connectedClient(broker, "share-b") { $0.protocolVersion = .v5 }
            let inboxA = Collector(first)
            let inboxB = Collector(second)
            try await first.subscribe("$share/aggregators/shared/+/telemetry", qos: .atLeastOnce)
            try await second.subscribe("$share/aggregators/shared/+/telemetry", qos: .atLeastOnce)
            let publisher = try await connectedClient(broker, "pub") { $0.protocolVersion = .v5 }

            let total = 1000
            for index in 0..<total {
                try await publisher.publish(topic: "shared/dev-\(index % 7)/telemetry", payload: Array(String(index).utf8), qos: .atLeastOnce)
            }
            let deadline = Date().addingTimeInterval(15)
            while inboxA.count + inboxB.count < total && Date() < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            // Anything still on its way (a duplicate) is routed before the markers.
            #expect(try await flush(from: publisher, to: first, inbox: inboxA))
            #expect(try await flush(from: publisher, to: second, inbox: inboxB))
            let all = (inboxA.withoutMarkers + inboxB.withoutMarkers).map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(all.count == total, "no loss and no duplicate")
            #expect(Set(all) == Set((0..<total).map(String.init)))
            #expect(inboxA.count > 0 && inboxB.count > 0, "both members of the group got a share")
        }

        @Test func unsubscribeStopsDelivery() async throws {
            let broker = try MosquittoBroker()
            let subscriber = try await connectedClient(broker, "sub")
            let inbox = Collector(subscriber)
            let publisher = try await connectedClient(broker, "pub")
            try await subscriber.subscribe("u/t")
            try await publisher.publish(topic: "u/t", payload: [1])
            #expect(await inbox.wait(for: 1))
            try await subscriber.unsubscribe("u/t")
            try await publisher.publish(topic: "u/t", payload: [2])
            try await publisher.publish(topic: "u/other", payload: [3])
            #expect(try await flush(from: publisher, to: subscriber, inbox: inbox))
            #expect(inbox.withoutMarkers.map(\.payload) == [[1]])
        }
    }
}

extension MQTTSuite {
    @Suite struct BackPressure {
        /// A consumer slower than the stream: the client holds at most its
        /// limit in memory, the rest waits at the broker, and nothing is lost.
        @Test func aBoundedQueueHoldsBackInsteadOfGrowingOrDropping() async throws {
            let broker = try MosquittoBroker(configuration: MosquittoBroker.plainConfiguration + "\nmax_queued_messages 100000\n")
            let slow = try await connectedClient(broker, "slow") { $0.incomingQueueLimit = 50 }
            try await slow.subscribe("flood", qos: .atLeastOnce)
            let publisher = try await connectedClient(broker, "flood-pub") { $0.maximumInflight = 200 }
            let total = 3000
            let publishing = Task {
                for index in 0..<total {
                    try await publisher.publish(topic: "flood", payload: Array(String(index).utf8), qos: .atLeastOnce)
                }
            }
            var received: [Int] = []
            var deepest = 0
            for await message in slow.messages {
                deepest = max(deepest, slow.messages.depth)
                received.append(Int(String(decoding: message.payload, as: UTF8.self)) ?? -1)
                if received.count % 100 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                if received.count == total { break }
            }
            try await publishing.value
            #expect(received.count == total)
            let outOfOrder = zip(received, received.dropFirst()).filter { $0.0 + 1 != $0.1 }.prefix(3)
            #expect(outOfOrder.isEmpty, "in order, no loss: first breaks at \(Array(outOfOrder))")
            #expect(deepest <= 50)
        }
    }
}
