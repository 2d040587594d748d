import Clocks
@testable import fieldproof_aggregator
import Foundation
import Identity
import Logging
import MQTT
import Testing
import TestSupport
import Wire

/// The aggregator's keys are what a device checks before it pairs; a broker
/// restarted without persistence forgets them, and the announcement every
/// `interval` brings them back. On a test clock: no 60 s wait.
@Suite struct KeyAnnouncementTests {
    func retainedKeys(_ broker: MosquittoBroker) async throws -> [UInt8]? {
        try await broker.retainedMessage(topic: Topics.aggregatorKeys)
    }

    @Test func theKeysAreBackOneIntervalAfterABrokerWithoutPersistenceRestarts() async throws {
        let broker = try MosquittoBroker()
        var configuration = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator")
        configuration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        let client = try MQTTClient(configuration: configuration)
        try await client.connect()
        defer { client.close() }
        let clock = TestClock()
        let identity = try AggregatorIdentity(seed: [UInt8](repeating: 7, count: 32))
        let service = KeyAnnouncementService(client: client, identity: identity, interval: .seconds(60), clock: clock,
                                             logger: Logger(label: "test"))
        let running = Task { try await service.run() }
        defer { running.cancel() }

        var first: [UInt8]?
        let deadline = ContinuousClock.now + .seconds(10)
        while first == nil, ContinuousClock.now < deadline { first = try await retainedKeys(broker) }
        let announced = try #require(first, "announced at start")
        #expect(announced == (try identity.signedAnnouncement()))

        let reconnected = Task {
            var lost = false
            for await state in client.connectionStates {
                if case .disconnected = state { lost = true } else if lost { return true }
            }
            return false
        }
        try broker.restart()
        #expect(await reconnected.value)
        #expect(try await retainedKeys(broker) == nil, "a broker without persistence forgot them")
        await clock.advance(by: .seconds(59))
        #expect(try await retainedKeys(broker) == nil, "not before the interval")
        await clock.advance(by: .seconds(1))
        var again: [UInt8]?
        let until = ContinuousClock.now + .seconds(10)
        while again == nil, ContinuousClock.now < until { again = try await retainedKeys(broker) }
        #expect(again == announced)
    }
}
