import Foundation
@testable import Agent
import Clocks
import LinuxService
import Logging
import MQTT
import Testing
import TestSupport
import Synchronization

/// Stand-ins for the Wire module: a "signed" message is `serial|sequence|floor|readings`,
/// an acknowledgement is the sequence in ASCII.
struct PlainSigner: TelemetrySigner {
    let keyID = "test-key"
    func sign(_ draft: TelemetryDraft) throws -> [UInt8] {
        Array("\(draft.serial)|\(draft.sequence)|\(draft.floor)|\(draft.readings.count)|\(draft.statuses.filter { $0.errorCode != nil }.count)".utf8)
    }
}

struct PlainAckVerifier: AckVerifier {
    func acknowledgedSequence(in payload: [UInt8], serial: String) -> UInt64? {
        UInt64(String(decoding: payload, as: UTF8.self))
    }
}

/// Plays the aggregator: acknowledges the highest contiguous sequence,
/// moving past gaps the device declared settled (`floor`).
final class PlainAggregator: Sendable {
    let client: MQTTClient
    private struct State {
        var seen: [UInt64: Int] = [:]
        var highest: UInt64 = 0
        var order: [UInt64] = []
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(broker: MosquittoBroker, serial: String) async throws {
        var config = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator-\(UUID().uuidString.prefix(5))")
        config.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300))
        client = try MQTTClient(configuration: config)
        try await client.connect()
        try await client.subscribe("fieldproof/v1/\(serial)/telemetry", qos: .atLeastOnce)
        let listener = Task { [weak self, client] in
            for await message in client.messages {
                let fields = String(decoding: message.payload, as: UTF8.self).split(separator: "|")
                guard fields.count == 5, let sequence = UInt64(fields[1]), let floor = UInt64(fields[2]), let self else { continue }
                if let ack = self.receive(sequence, floor: floor) {
                    // QoS 0: the loop must not wait for a PUBACK (one lost in a reconnect under a loaded
                    // machine stopped it for good, and with it every later Ack); the next Ack supersedes a lost one.
                    try? await client.publish(topic: "fieldproof/v1/\(serial)/ack", payload: Array(String(ack).utf8), qos: .atMostOnce, retain: true)
                }
            }
        }
        task.withLock { $0 = listener }
    }

    private func receive(_ sequence: UInt64, floor: UInt64) -> UInt64? {
        state.withLock { state in
            state.seen[sequence, default: 0] += 1
            state.order.append(sequence)
            state.highest = max(state.highest, floor)
            while state.seen[state.highest + 1] != nil { state.highest += 1 }
            return state.highest
        }
    }

    var received: Set<UInt64> { state.withLock { Set($0.seen.keys) } }
    var arrivalOrder: [UInt64] { state.withLock { $0.order } }

    func close() {
        task.withLock { $0?.cancel() }
        client.close()
    }
}

@Suite(.serialized) struct AgentRuntimeTests {
    let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString.prefix(8))").path
    var runtimeDirectory: String { stateDirectory + ".run" }

    func configuration(port: Int) throws -> AgentConfiguration {
        try AgentConfiguration.parse("""
            serial: dev-1
            state_directory: \(stateDirectory)
            runtime_directory: \(runtimeDirectory)
            broker:
              port: \(port)
              reconnect_max_delay: 300ms
            publishing:
              resend_after: 1s
            spool:
              fsync: record
            """, file: "test.yaml", knownDrivers: ["test"])
    }

    func runtime(port: Int, sensors: [any SampledSensor], paired: Bool = true,
                 notifier: SystemdNotifier = SystemdNotifier(environment: [:])) throws -> AgentRuntime<ContinuousClock> {
        try runtime(port: port, sensors: sensors, paired: paired, notifier: notifier, timing: ContinuousClock())
    }

    func runtime<C: Clock>(port: Int, sensors: [any SampledSensor], paired: Bool = true,
                           notifier: SystemdNotifier = SystemdNotifier(environment: [:]), timing: C) throws -> AgentRuntime<C> {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try AgentRuntime(configuration: try configuration(port: port), dependencies: .init(
            sensors: sensors, signer: paired ? PlainSigner() : nil, ackVerifier: PlainAckVerifier(), board: "test-board",
            version: "test", notifier: notifier, logger: logger), timing: timing)
    }

    /// Sampling runs on the injected clock: ten seconds of it, one message
    /// per one-second slot, whatever the real time. No broker: the messages
    /// wait in the spool.
    @Test func readingsFollowTheInjectedClockNotTheRealOne() async throws {
        let clock = TestClock()
        let start = clock.now
        let sensor = CountingSensor(name: "a", interval: .seconds(1))
        let agent = try runtime(port: try LoopbackNetwork.freePort(), sensors: [sensor], timing: clock)
        agent.start()
        // A reading goes into a message 20 ms after it came in (the sampler's
        // grouping window); a loaded machine may reach that sleep after the
        // advance meant for it, so step on by a window at a time until the
        // message is there: only once the reading is in (the sampler reads a
        // due slot without waiting for the clock; earlier steps could move its
        // start), and not as far as the next second's slot. Whole windows,
        // not milliseconds: in the full suite each step (its yields) waits
        // behind every other test's jobs, and 1 ms steps took seconds each.
        func ticked(_ count: UInt64) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(30)
            while agent.currentStatus().lastSequence < count, ContinuousClock.now < deadline {
                if UInt64(sensor.counter.value) >= count, start.duration(to: clock.now) < .seconds(Int64(count - 1)) + .milliseconds(900) {
                    await clock.advance(by: .milliseconds(25))
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            return agent.currentStatus().lastSequence == count
        }
        #expect(try await ticked(1), "one reading at the start (reads \(sensor.counter.value), clock at \(start.duration(to: clock.now)))")
        for second in 1...10 {
            await clock.advance(to: start.advanced(by: .seconds(second) - .milliseconds(1)))
            #expect(agent.currentStatus().lastSequence == UInt64(second), "not before the second is up")
            await clock.advance(to: start.advanced(by: .seconds(second)))
            #expect(try await ticked(UInt64(second + 1)), "reads \(sensor.counter.value), clock at \(start.duration(to: clock.now))")
        }
        #expect(sensor.counter.value == 11)
        #expect(agent.currentStatus().spool.records == 11)
        await agent.stop(drainTimeout: .zero)
    }

    func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func readingsArriveInOrderAndLeaveTheSpoolWhenAcknowledged() async throws {
        let broker = try MosquittoBroker()
        let aggregator = try await PlainAggregator(broker: broker, serial: "dev-1")
        defer { aggregator.close() }
        let socket = try NotifySocket(abstract: false)
        let agent = try runtime(port: broker.port, sensors: [
            CountingSensor(name: "a", interval: .milliseconds(20)),
            CountingSensor(name: "b", interval: .milliseconds(40)),
            CountingSensor(name: "c", interval: .milliseconds(40), fails: true),
        ], notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path]))
        agent.start()
        var datagrams: [String] = []
        while datagrams.count < 5, !datagrams.contains(where: { $0.hasPrefix("READY=1") }), let datagram = await socket.receive(within: 30) {
            datagrams.append(datagram)
        }
        #expect(datagrams.contains { $0.hasPrefix("READY=1\nSTATUS=sampling 3 sensor(s)") }, "\(datagrams)")
        // Generous waits: a full test run starts dozens of brokers and databases on two cores at once.
        #expect(await waitUntil(seconds: 60) { aggregator.received.count >= 50 })
        let drained = await agent.stop(drainTimeout: .seconds(30))
        #expect(drained)
        let last = agent.currentStatus().lastSequence
        #expect(aggregator.received == Set(1...last))
        // First deliveries in order; a re-send after a slow Ack (a busy
        // machine) may repeat some, which the aggregator ignores.
        var seen = Set<UInt64>()
        let firstArrivals = aggregator.arrivalOrder.filter { seen.insert($0).inserted }
        #expect(firstArrivals.prefix(40) == ArraySlice((1...40).map { UInt64($0) }), "first deliveries in order: \(aggregator.arrivalOrder.prefix(60))")
        let status = try #require(try DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory))
        #expect(status.paired && status.spool.records == 0 && status.spool.lastAcknowledged == last)
        #expect(status.sensors.first { $0.name == "c" }?.lastError == "no acknowledge from 0x76 on /dev/i2c-1")
    }

    /// status.json is runtime state: in the runtime directory (tmpfs under
    /// systemd), never in the state directory with the durable files.
    @Test func theStatusFileIsInTheRuntimeDirectoryNotTheStateDirectory() async throws {
        let agent = try runtime(port: try LoopbackNetwork.freePort(), sensors: [CountingSensor(name: "a", interval: .milliseconds(20))])
        agent.start()
        #expect(await waitUntil(seconds: 10) { (try? DeviceStatus.read(fromRuntimeDirectory: runtimeDirectory))??.sensors.first?.lastReadAt != nil })
        await agent.stop(drainTimeout: .milliseconds(100))
        #expect(FileManager.default.fileExists(atPath: runtimeDirectory + "/status.json"))
        #expect(FileManager.default.fileExists(atPath: stateDirectory + "/sequence"), "durable state stays in the state directory")
        #expect(!FileManager.default.fileExists(atPath: stateDirectory + "/status.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtimeDirectory) == ["status.json"], "no temporary file left behind")
    }

    @Test func anUnpairedDeviceSamplesButPublishesNothing() async throws {
        let broker = try MosquittoBroker()
        let aggregator = try await PlainAggregator(broker: broker, serial: "dev-1")
        defer { aggregator.close() }
        let sensor = CountingSensor(name: "a", interval: .milliseconds(20))
        let agent = try runtime(port: broker.port, sensors: [sensor], paired: false)
        agent.start()
        #expect(await waitUntil(seconds: 20) { sensor.counter.value >= 20 && agent.currentStatus().sensors.first?.lastReadAt != nil })
        let status = agent.currentStatus()
        await agent.stop(drainTimeout: .seconds(1))
        #expect(aggregator.received.isEmpty)
        #expect(!status.paired)
        #expect(status.sensors.first?.lastReadAt != nil, "it still reads, for `fieldproof status`")
        #expect(status.spool.records == 0)
    }

    @Test func withoutABrokerItKeepsSamplingIntoTheSpoolAndCatchesUpLater() async throws {
        let port = try LoopbackNetwork.freePort()
        let agent = try runtime(port: port, sensors: [CountingSensor(name: "a", interval: .milliseconds(20))])
        agent.start()
        #expect(await waitUntil(seconds: 10) { agent.currentStatus().spool.records >= 20 })
        #expect(!agent.currentStatus().broker.connected)
        #expect(agent.currentStatus().broker.lastError?.contains("127.0.0.1:\(port)") == true)

        let broker = try MosquittoBroker(port: port)
        let aggregator = try await PlainAggregator(broker: broker, serial: "dev-1")
        defer { aggregator.close() }
        let backlog = agent.currentStatus().lastSequence
        #expect(await waitUntil(seconds: 20) { agent.currentStatus().spool.lastAcknowledged >= backlog })
        #expect(agent.currentStatus().broker.connected)
        #expect(await agent.stop(drainTimeout: .seconds(5)))
        let last = agent.currentStatus().lastSequence
        #expect(aggregator.received == Set(1...last))
    }
}
