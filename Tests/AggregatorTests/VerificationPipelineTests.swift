@testable import Aggregator
import Foundation
import Logging
import MQTT
import Testing
import TestSupport
import Synchronization

/// Test doubles for the Wire and store sides: a message is `serial|sequence`
/// (accepted) or `reject|reason`; the committer keeps messages in memory.
struct PlainAccepted: AcceptedMessageProtocol {
    var serial: String
    var sequence: UInt64
}

struct PlainVerifier: MessageVerifier {
    func verify(_ message: IncomingMessage) async -> VerificationOutcome<PlainAccepted> {
        let fields = String(decoding: message.payload, as: UTF8.self).split(separator: "|").map(String.init)
        if fields.count == 2, fields[0] == "reject" { return .rejected(serial: nil, reason: fields[1]) }
        guard fields.count == 2, let sequence = UInt64(fields[1]) else { return .rejected(serial: nil, reason: "malformed") }
        return .accepted(PlainAccepted(serial: fields[0], sequence: sequence))
    }
}

final class MemoryCommitter: MessageCommitter, Sendable {
    private struct State {
        var stored: [String: Set<UInt64>] = [:]
        var storeCount: [String: Int] = [:]
        var rejections: [String: Int] = [:]
        var failuresLeft: Int
        var batchSizes: [Int] = []

        mutating func commit(_ message: PlainAccepted) -> CommitResult {
            let inserted = stored[message.serial, default: []].insert(message.sequence).inserted
            if inserted { storeCount["\(message.serial)/\(message.sequence)", default: 0] += 1 }
            var highest: UInt64 = 0
            while stored[message.serial]?.contains(highest + 1) == true { highest += 1 }
            return CommitResult(stored: inserted, highestContiguous: highest)
        }
    }

    private let state: Mutex<State>
    let delay: Duration?

    init(delay: Duration? = nil, failFirst: Int = 0) {
        self.delay = delay
        state = Mutex(State(failuresLeft: failFirst))
    }

    struct Unavailable: Error {}

    func commit(_ message: PlainAccepted) async throws -> CommitResult {
        try await commit(batch: [message])[0]
    }

    /// All or nothing, like a transaction; one delay per batch, like a
    /// disk flush.
    func commit(batch messages: [PlainAccepted]) async throws -> [CommitResult] {
        if let delay { try? await Task.sleep(for: delay) }
        return try state.withLock { (state) throws(Unavailable) -> [CommitResult] in
            if state.failuresLeft > 0 { state.failuresLeft -= 1; throw Unavailable() }
            state.batchSizes.append(messages.count)
            return messages.map { state.commit($0) }
        }
    }

    func recordRejection(serial: String?, reason: String) async throws {
        state.withLock { $0.rejections[reason, default: 0] += 1 }
    }

    var storedCounts: [String: Int] { state.withLock { $0.storeCount } }
    var batches: [Int] { state.withLock { $0.batchSizes } }
    var rejectionCounts: [String: Int] { state.withLock { $0.rejections } }
}

final class RecordingAcks: AckPublisher, Sendable {
    private let published = Mutex<[String: [UInt64]]>([:])
    func publishAck(serial: String, upTo sequence: UInt64) async throws {
        published.withLock { $0[serial, default: []].append(sequence) }
    }
    var all: [String: [UInt64]] { published.withLock { $0 } }
}

@Suite(.serialized) struct VerificationPipelineTests {
    /// The rejection reason of the end marker `run` publishes.
    static let marker = "end-marker"

    func logger() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs a pipeline on a subscriber of a real broker while `publish` runs.
    func run(committer: MemoryCommitter, acks: RecordingAcks, metrics: AggregatorMetrics = AggregatorMetrics(), queueLimit: Int? = nil,
             expected: Int, publish: @escaping @Sendable (MQTTClient) async throws -> Void) async throws -> Int {
        let broker = try MosquittoBroker(configuration: MosquittoBroker.plainConfiguration + "\nmax_queued_messages 100000\n")
        var subscriberConfig = MQTTConfiguration(host: broker.host, port: broker.port, clientID: "aggregator")
        subscriberConfig.incomingQueueLimit = queueLimit
        let subscriber = try MQTTClient(configuration: subscriberConfig)
        try await subscriber.connect()
        try await subscriber.subscribe("fieldproof/v1/+/telemetry", qos: .atLeastOnce)
        let publisher = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "devices"))
        try await publisher.connect()

        let pipeline = VerificationPipeline(verifier: PlainVerifier(), committer: committer, acks: acks, workers: 4, metrics: metrics, logger: logger())
        let messages = subscriber.messages.map { IncomingMessage(topic: $0.topic, payload: $0.payload, receivedAt: 0) }
        let runner = Task { await pipeline.run(messages, now: { 0 }) }
        let watcher = Task {
            var deepest = 0
            while !Task.isCancelled {
                deepest = max(deepest, subscriber.messages.depth)
                try? await Task.sleep(for: .milliseconds(2))
            }
            return deepest
        }
        try await publish(publisher)
        let deadline = Date().addingTimeInterval(60)
        while committer.storedCounts.count + committer.rejectionCounts.values.reduce(0, +) < expected && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // A marker published last: once it is counted, everything published
        // before it (a duplicate still on its way) has reached the pipeline.
        try await publisher.publish(topic: "fieldproof/v1/marker/telemetry", payload: Array("reject|\(Self.marker)".utf8))
        while committer.rejectionCounts[Self.marker] != 1 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        subscriber.close()
        await runner.value
        watcher.cancel()
        return await watcher.value
    }

    @Test func everyMessageIsCommittedOnceAndAcknowledged() async throws {
        let committer = MemoryCommitter()
        let acks = RecordingAcks()
        let metrics = AggregatorMetrics()
        _ = try await run(committer: committer, acks: acks, metrics: metrics, expected: 2000) { publisher in
            for sequence in 1...400 {
                for device in 0..<5 {
                    try await publisher.publish(topic: "fieldproof/v1/dev-\(device)/telemetry", payload: Array("dev-\(device)|\(sequence)".utf8))
                }
            }
            // Redelivery: the same messages again change nothing.
            for sequence in 1...50 {
                try await publisher.publish(topic: "fieldproof/v1/dev-0/telemetry", payload: Array("dev-0|\(sequence)".utf8))
            }
        }
        #expect(committer.storedCounts.count == 2000)
        #expect(committer.storedCounts.values.allSatisfy { $0 == 1 })
        for device in 0..<5 {
            let published = acks.all["dev-\(device)"] ?? []
            #expect(published.last == 400, "the newest ack covers everything")
            #expect(published == published.sorted(), "acks never go backwards")
        }
        let text = metrics.render()
        #expect(text.contains("fieldproof_messages_accepted_total 2000"))
        #expect(text.contains("fieldproof_messages_redelivered_total 50"))
        #expect(!text.contains("duplicate_sequence"), "a redelivery is not a rejection")
    }

    /// A device that re-sends what an Ack already covered lacks that Ack (it
    /// was lost with a broker restart, or sent while the device was away):
    /// the Ack goes out again, once per second at most, however many copies.
    @Test func aRedeliveryOfWhatWasAcknowledgedRepeatsTheAckAtMostOncePerSecond() async throws {
        let committer = MemoryCommitter()
        let acks = RecordingAcks()
        _ = try await run(committer: committer, acks: acks, expected: 10) { publisher in
            for sequence in 1...10 {
                try await publisher.publish(topic: "fieldproof/v1/dev/telemetry", payload: Array("dev|\(sequence)".utf8))
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while acks.all["dev"]?.last != 10, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let before = acks.all["dev"] ?? []
            #expect(before.last == 10 && before.filter { $0 == 10 }.count == 1, "\(before)")
            for sequence in 3...8 {
                try await publisher.publish(topic: "fieldproof/v1/dev/telemetry", payload: Array("dev|\(sequence)".utf8))
            }
            while acks.all["dev"]?.count == before.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(200)) // any further repeat would be out by now
            #expect(acks.all["dev"] == before + [10], "one repeat for six redeliveries within the second")
            try await Task.sleep(for: .milliseconds(1000))
            try await publisher.publish(topic: "fieldproof/v1/dev/telemetry", payload: Array("dev|5".utf8))
            while acks.all["dev"]?.count == before.count + 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(acks.all["dev"] == before + [10, 10], "a second later, again")
        }
        #expect(committer.storedCounts.count == 10)
    }

    @Test func rejectionsAreCountedByReasonAndTheFlowGoesOn() async throws {
        let committer = MemoryCommitter()
        let metrics = AggregatorMetrics()
        _ = try await run(committer: committer, acks: RecordingAcks(), metrics: metrics, expected: 110) { publisher in
            for index in 0..<100 {
                let reason = ["bad_signature", "unknown_device", "revoked_key"][index % 3]
                try await publisher.publish(topic: "fieldproof/v1/x/telemetry", payload: Array("reject|\(reason)".utf8))
                if index % 10 == 0 {
                    try await publisher.publish(topic: "fieldproof/v1/dev/telemetry", payload: Array("dev|\(index / 10 + 1)".utf8))
                }
            }
        }
        #expect(committer.rejectionCounts == ["bad_signature": 34, "unknown_device": 33, "revoked_key": 33, Self.marker: 1])
        #expect(committer.storedCounts.count == 10)
        #expect(metrics.render().contains("fieldproof_messages_rejected_total{reason=\"bad_signature\"} 34"))
    }

    /// A slow (and at first failing) store: intake slows down, the client's
    /// queue stays bounded, and nothing is lost. Messages that arrive while
    /// a commit runs go into the next one together (group commit); a failed
    /// batch is retried message by message.
    @Test func aSlowStoreMeansBackPressureNotLoss() async throws {
        let committer = MemoryCommitter(delay: .milliseconds(2), failFirst: 3)
        let deepest = try await run(committer: committer, acks: RecordingAcks(), queueLimit: 50, expected: 1500) { publisher in
            for sequence in 1...1500 {
                try await publisher.publish(topic: "fieldproof/v1/slow/telemetry", payload: Array("slow|\(sequence)".utf8))
            }
        }
        #expect(committer.storedCounts.count == 1500)
        #expect(committer.storedCounts.values.allSatisfy { $0 == 1 })
        #expect(deepest <= 50)
        let batches = committer.batches
        #expect(batches.reduce(0, +) == 1500, "every message in exactly one successful batch")
        #expect(batches.contains(1), "the failed batch was retried one message at a time")
        #expect((batches.max() ?? 0) >= 10, "messages waiting for a busy store commit together: \(batches.max() ?? 0)")
        #expect(batches.count < 500, "group commit: \(batches.count) batches for 1,500 messages")
    }
}
