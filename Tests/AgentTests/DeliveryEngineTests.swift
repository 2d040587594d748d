import Foundation
@testable import Agent
import Clocks
import MQTT
import Testing
import TestSupport
import Synchronization

/// Plays the aggregator: records what arrives and acknowledges the highest
/// contiguous sequence, unless told to lose some first deliveries.
final class AckingResponder: Sendable {
    private struct State {
        var seen: [UInt64: Int] = [:]
        var losing: Set<UInt64>
        var highest: UInt64 = 0
    }
    private let state: Mutex<State>
    private let listener = Mutex<Task<Void, Never>?>(nil)
    let client: MQTTClient

    init(broker: MosquittoBroker, topic: String, losingFirstDeliveryOf lost: Set<UInt64> = [], acknowledge: @escaping @Sendable (UInt64) async -> Void) async throws {
        var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "responder-\(UUID().uuidString.prefix(6))")
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        client = try MQTTClient(configuration: config)
        state = Mutex(State(losing: lost))
        try await client.connect()
        try await client.subscribe(topic, qos: .atLeastOnce)
        let task = Task { [weak self, client] in
            for await message in client.messages {
                guard let self, let sequence = UInt64(String(decoding: message.payload, as: UTF8.self).split(separator: ":")[0]) else { continue }
                if let next = self.receive(sequence) { await acknowledge(next) }
            }
        }
        listener.withLock { $0 = task }
    }

    private func receive(_ sequence: UInt64) -> UInt64? {
        state.withLock { state in
            if state.losing.remove(sequence) != nil { return nil }
            state.seen[sequence, default: 0] += 1
            var advanced = false
            while state.seen[state.highest + 1] != nil { state.highest += 1; advanced = true }
            return advanced ? state.highest : nil
        }
    }

    var received: [UInt64: Int] { state.withLock { $0.seen } }

    func close() {
        listener.withLock { $0?.cancel() }
        client.close()
    }
}

@Suite(.serialized) struct DeliveryEngineTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString.prefix(8))").path

    func makeSpool() throws -> SharedSpool {
        SharedSpool(try Spool(configuration: SpoolConfiguration(directory: directory, durability: .everyRecord)))
    }

    func payload(_ sequence: UInt64) -> [UInt8] { Array("\(sequence):reading".utf8) }

    func waitUntil(seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }

    @Test func everyRecordArrivesAndLeavesTheSpoolOnlyWhenAcknowledged() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device"))
        try await client.connect()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "fieldproof/v1/dev/telemetry", window: 8)
        let responder = try await AckingResponder(broker: broker, topic: "fieldproof/v1/dev/telemetry") { await engine.acknowledged(upTo: $0) }
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }

        for sequence in UInt64(1)...300 {
            try spool.append(sequence: sequence, payload: payload(sequence))
            engine.kick()
        }
        // Generous: a full test run starts dozens of brokers and databases on two cores at once.
        #expect(await waitUntil(seconds: 60) { spool.statistics.records == 0 })
        #expect(Set(responder.received.keys) == Set(1...300))
        #expect(spool.statistics.acknowledgedUpTo == 300)
        let statistics = await engine.currentStatistics
        #expect(statistics.published == 300)
    }

    @Test func aLostDeliveryIsResentAfterTheTimeout() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device"))
        try await client.connect()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "t/dev", window: 4, resendAfter: .milliseconds(500))
        let responder = try await AckingResponder(broker: broker, topic: "t/dev", losingFirstDeliveryOf: [5, 17]) { await engine.acknowledged(upTo: $0) }
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }
        for sequence in UInt64(1)...30 { try spool.append(sequence: sequence, payload: payload(sequence)); engine.kick() }

        #expect(await waitUntil(seconds: 15) { spool.statistics.records == 0 })
        #expect(Set(responder.received.keys) == Set(1...30))
        #expect(await engine.currentStatistics.resent > 0)
    }

    /// Acknowledgements that take far longer than `resendAfter` are slow,
    /// not lost: once the timer has measured them, the engine stops sending
    /// windows again. A fixed 200 ms timeout against 1.5 s acknowledgements
    /// resent every record several times over.
    @Test func slowAcknowledgementsStretchTheTimeoutInsteadOfResendingEverything() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device"))
        try await client.connect()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "t/dev", window: 8, resendAfter: .milliseconds(200))
        let responder = try await AckingResponder(broker: broker, topic: "t/dev") { sequence in
            Task {
                try? await Task.sleep(for: .milliseconds(1500)) // the aggregator's round trip
                await engine.acknowledged(upTo: sequence)
            }
        }
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }

        var sequence: UInt64 = 0
        for _ in 0..<40 { // 8 s of one record every 200 ms
            sequence += 1
            try spool.append(sequence: sequence, payload: payload(sequence))
            engine.kick()
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(await waitUntil(seconds: 60) { spool.statistics.records == 0 })
        #expect(Set(responder.received.keys) == Set(1...sequence))
        let statistics = await engine.currentStatistics
        #expect(statistics.resendTimeout > .milliseconds(1500))
        // Before the first sample the 200 ms minimum expires a few times
        // (200, 400, 800 ms backed off); after it, nothing more is resent.
        #expect(statistics.resent <= 3 * 8, "resent \(statistics.resent) of \(sequence)")
    }

    /// The resend timer on a clock the test moves: exact RFC 6298 figures
    /// from measured round trips, a resend only once the timeout has
    /// passed, backoff, and Karn's rule (a resent record's acknowledgement
    /// is no sample). The broker and the spool are real; only time is not.
    @Test func theResendTimeoutFollowsRoundTripsMeasuredOnTheInjectedClock() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device"))
        try await client.connect()
        let clock = TestClock()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "t/dev", window: 8, resendAfter: .milliseconds(500), resendJitter: 0,
                                    clock: clock)
        let responder = try await AckingResponder(broker: broker, topic: "t/dev") { _ in } // the test acknowledges
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }
        func append(_ sequences: ClosedRange<UInt64>) throws {
            for sequence in sequences { try spool.append(sequence: sequence, payload: payload(sequence)) }
            engine.kick()
        }
        func arrived(_ sequences: ClosedRange<UInt64>, times: Int) async -> Bool {
            await waitUntil(seconds: 30) { sequences.allSatisfy { (responder.received[$0] ?? 0) >= times } }
        }

        try append(1...4)
        #expect(await arrived(1...4, times: 1))
        await clock.advance(by: .milliseconds(400))
        await engine.acknowledged(upTo: 4)
        // R = 0.4 s: SRTT 0.4, RTTVAR 0.2, RTO = 0.4 + 4 × 0.2 = 1.2 s.
        #expect(await engine.currentStatistics.resendTimeout == .milliseconds(1200))

        try append(5...8)
        #expect(await arrived(5...8, times: 1))
        await clock.advance(by: .seconds(1))
        await engine.pump()
        #expect(await engine.currentStatistics.resent == 0, "1.0 s is within the 1.2 s timeout")
        await clock.advance(by: .milliseconds(300))
        await engine.pump()
        let expired = await engine.currentStatistics
        #expect(expired.resent == 4, "5…8 go again once 1.2 s have passed")
        #expect(expired.resendTimeout == .milliseconds(2400), "and the timeout doubles")
        #expect(await arrived(5...8, times: 2))

        await engine.acknowledged(upTo: 8)
        #expect(await engine.currentStatistics.resendTimeout == .milliseconds(2400), "8 was resent: its acknowledgement is no sample")

        try append(9...9)
        #expect(await arrived(9...9, times: 1))
        await clock.advance(by: .milliseconds(600))
        await engine.acknowledged(upTo: 9)
        // R = 0.6 s: RTTVAR = ¾ × 0.2 + ¼ × 0.2 = 0.2, SRTT = ⅞ × 0.4 + ⅛ × 0.6 = 0.425, RTO = 1.225 s.
        #expect(await engine.currentStatistics.resendTimeout == .milliseconds(1225))
        #expect(spool.statistics.records == 0)
    }

    /// The aggregator's Acks stop (its Ack connection is down) while the
    /// device has 40 records out: each resend is one window past the
    /// acknowledgement, not the spool, and the waits between resends double
    /// (jitter off here, to check the figures). Once Acks come again the
    /// rest goes out at once and nothing is lost. On a clock the test moves.
    @Test func whileAcksArePausedResendsAreOneWindowAndBackOff() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device"))
        try await client.connect()
        let clock = TestClock()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "t/dev", window: 4, resendAfter: .seconds(1), resendJitter: 0, clock: clock)
        let responder = try await AckingResponder(broker: broker, topic: "t/dev") { _ in } // the Ack path is paused
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }
        for sequence in UInt64(1)...40 { try spool.append(sequence: sequence, payload: payload(sequence)) }
        engine.kick()
        #expect(await waitUntil(seconds: 30) { (1...40).allSatisfy { responder.received[$0] == 1 } }, "all sent once")

        // 64 s in 250 ms steps: a resend once 1 s has passed, then once 2, 4, 8
        // and 16 s have passed since the one before (the next waits 32 s), each
        // of records 1…4 only.
        var resendTimes: [Duration] = []
        var elapsed = Duration.zero
        var resent = await engine.currentStatistics.resent
        while elapsed < .seconds(64) {
            await clock.advance(by: .milliseconds(250))
            elapsed += .milliseconds(250)
            await engine.pump()
            let now = await engine.currentStatistics.resent
            if now != resent {
                #expect(now - resent == 4, "one window at a time, at \(elapsed)")
                resendTimes.append(elapsed)
                resent = now
                // Its publishes finish (PUBACKs come in real time) before time moves on.
                let expected = resendTimes.count + 1
                #expect(await waitUntil(seconds: 10) { (1...4).allSatisfy { responder.received[$0] == expected } })
            }
        }
        #expect(resendTimes == [1.25, 3.5, 7.75, 16, 32.25].map { Duration.milliseconds(Int($0 * 1000)) }, "\(resendTimes)")
        #expect((5...40).allSatisfy { responder.received[$0] == 1 }, "nothing past the window was sent again")

        // Acks come back: the first that moves ends the recovery, the rest follows at once.
        await engine.acknowledged(upTo: 4)
        #expect(await waitUntil(seconds: 30) { (5...40).allSatisfy { (responder.received[$0] ?? 0) >= 2 } }, "sent again, no timeout awaited")
        await engine.acknowledged(upTo: 40)
        #expect(spool.statistics.records == 0)
        #expect(Set(responder.received.keys) == Set(1...40))
    }

    /// With jitter each wait is the timeout plus up to a quarter of it, drawn
    /// anew: ten devices that sent together resend spread over that span.
    @Test func jitterSpreadsTheResendsOfDevicesThatSentTogether() async throws {
        let broker = try MosquittoBroker()
        let clock = TestClock()
        var engines: [DeliveryEngine<TestClock<Duration>>] = []
        var clients: [MQTTClient] = []
        defer { for client in clients { client.close() } }
        for index in 0..<10 {
            try FileManager.default.createDirectory(atPath: directory + "/\(index)", withIntermediateDirectories: true)
            let spool = SharedSpool(try Spool(configuration: SpoolConfiguration(directory: directory + "/\(index)", durability: .everyRecord)))
            try spool.append(sequence: 1, payload: payload(1))
            let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device-\(index)"))
            try await client.connect()
            clients.append(client)
            let engine = DeliveryEngine(spool: spool, client: client, topic: "t/\(index)", window: 4, resendAfter: .seconds(4), clock: clock)
            await engine.pump()
            engines.append(engine)
        }
        var firstResend: [Int: Duration] = [:]
        var elapsed = Duration.zero
        while elapsed < .seconds(6) {
            await clock.advance(by: .milliseconds(100))
            elapsed += .milliseconds(100)
            for (index, engine) in engines.enumerated() where firstResend[index] == nil {
                await engine.pump()
                if await engine.currentStatistics.resent > 0 { firstResend[index] = elapsed }
            }
        }
        let times = firstResend.values.sorted()
        #expect(times.count == 10, "\(firstResend)")
        #expect(times.allSatisfy { $0 > .seconds(4) && $0 <= .seconds(5) + .milliseconds(100) }, "within the timeout plus a quarter: \(times)")
        #expect(Set(times).count >= 3, "not in lock step: \(times)")
    }

    /// A broker without persistence restarts: whatever it held is gone, and
    /// records appended meanwhile wait in the spool. After the restart every
    /// sequence arrives at least once.
    @Test func nothingIsLostWhenTheBrokerRestartsWithoutPersistence() async throws {
        let broker = try MosquittoBroker()
        let spool = try makeSpool()
        var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "device")
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        let client = try MQTTClient(configuration: config)
        try await client.connect()
        let engine = DeliveryEngine(spool: spool, client: client, topic: "t/dev", window: 16, resendAfter: .seconds(1))
        let responder = try await AckingResponder(broker: broker, topic: "t/dev") { await engine.acknowledged(upTo: $0) }
        defer { responder.close() }
        let runner = Task { await engine.run() }
        defer { runner.cancel() }
        let watcher = Task {
            for await state in client.connectionStates where state == .connected { await engine.connectionRestored() }
        }
        defer { watcher.cancel() }

        var sequence: UInt64 = 0
        for _ in 0..<50 { sequence += 1; try spool.append(sequence: sequence, payload: payload(sequence)); engine.kick() }
        broker.kill()
        for _ in 0..<100 {
            sequence += 1
            try spool.append(sequence: sequence, payload: payload(sequence))
            engine.kick()
            try await Task.sleep(for: .milliseconds(5))
        }
        try broker.start()
        for _ in 0..<50 { sequence += 1; try spool.append(sequence: sequence, payload: payload(sequence)); engine.kick() }

        #expect(await waitUntil(seconds: 30) { spool.statistics.records == 0 })
        #expect(Set(responder.received.keys) == Set(1...sequence))
    }
}
