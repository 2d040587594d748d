import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport
import Wire
import Synchronization

/// What a client sends cannot stop, crash or wedge the store: sequences at
/// the top of the range, a sequence re-used with other bytes (conflict),
/// arithmetic that would overflow, and messages the store cannot commit
/// (dead letters). Both stores, against real SQLite and real PostgreSQL.
@Suite(.serialized) struct PoisonInputStoreTests {
    enum Kind: String, CaseIterable { case sqlite, postgres }

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let device = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x41, count: 32))

    /// Opens a store of `kind`; `reopen` opens another on the same data;
    /// `stop` stops what was started.
    func open(_ kind: Kind) async throws -> (store: any AggregatorDataStore, reopen: () async throws -> any AggregatorDataStore, stop: () -> Void) {
        let calendar = calendar
        switch kind {
        case .sqlite:
            let path = try TemporaryDirectory.make(prefix: "poison").appendingPathComponent("aggregator.sqlite").path
            return (try SQLiteStore(path: path, calendar: calendar), { try SQLiteStore(path: path, calendar: calendar) }, {})
        case .postgres:
            let server = try await PostgresServer.started()
            let store = try await PostgresStore(url: server.url, calendar: calendar)
            let opened = Opened()
            return (store, {
                let again = try await PostgresStore(url: server.url, calendar: calendar)
                opened.add(again)
                return again
            }, { store.close(); opened.closeAll(); server.stop() })
        }
    }

    final class Opened: Sendable {
        private let stores = Mutex<[PostgresStore]>([])
        func add(_ store: PostgresStore) { stores.withLock { $0.append(store) } }
        func closeAll() { stores.withLock { $0.forEach { $0.close() } } }
    }

    func message(_ sequence: UInt64, floor: UInt64? = nil, value: Double = 280, synchronised: Bool = true, timestamp: Int64? = nil,
                 sinceBoot: UInt64 = 1000, serial: String = "dev-1") throws -> StoredMessage {
        let time = timestamp ?? t0 + 1000
        let telemetry = Telemetry(serial: serial, sequence: sequence, floor: floor ?? 0, timestamp: UInt64(clamping: time),
                                  clockSynchronised: synchronised, bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: sinceBoot,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: value, unit: "K")], statuses: [])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: t0 + 2000)
    }

    @Test(arguments: Kind.allCases)
    func theTopOfTheSequenceRangeCommitsAndAcknowledges(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let top = TelemetryBounds.maximumInteger
        #expect(try await store.commit(try message(top, floor: top - 1)) == CommitResult(.stored, highestContiguous: top))
        #expect(try await store.commit(try message(top, floor: top - 1)) == CommitResult(.duplicate, highestContiguous: top))
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == top)
        // Past the verifier's bounds (a store must not trap even then): the
        // highest contiguous stops at what the database holds.
        let beyond = UInt64(Int64.max)
        let result = try await store.commit(try message(beyond, floor: beyond - 1, serial: "dev-2"))
        #expect(result == CommitResult(.stored, highestContiguous: beyond))
    }

    @Test(arguments: Kind.allCases)
    func aSequenceWithOtherBytesIsAConflictAndChangesNothing(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let original = try message(1, value: 280)
        #expect(try await store.commit(original) == CommitResult(.stored, highestContiguous: 1))
        // The same bytes again: a duplicate (acknowledged).
        #expect(try await store.commit(original).outcome == .duplicate)
        // Other bytes under the same sequence: a conflict, nothing changes.
        let other = try message(1, value: 999)
        #expect(try await store.commit(other).outcome == .conflict)
        // In a batch too, next to messages that are stored.
        let results = try await store.commit(batch: [try message(2, value: 281), try message(1, value: 500)])
        #expect(results.map(\.outcome) == [.stored, .conflict])
        #expect(try await store.commit(try message(2, value: 282)) == CommitResult(.conflict, highestContiguous: 2))
        let tallies = try await store.tallies(TallyQuery(serial: "dev-1"))
        #expect(tallies.map(\.count) == [2] && tallies.first?.maximum == 281 && tallies.first?.sum == 561)
        let collector = RawCollector()
        try await store.exportMessages(serial: "dev-1") { collector.append($0.raw) }
        #expect(collector.values == [original.raw, try message(2, value: 281).raw])
        #expect(try await store.device(serial: "dev-1")?.accepted == 2)
    }

    /// Arithmetic on received times is checked: a message whose re-timing
    /// would overflow Int64 makes the commit throw (and so, after its tries,
    /// a dead letter), never a trap or a "bigint out of range" loop.
    @Test(arguments: Kind.allCases)
    func overflowingTimesThrowInsteadOfTrapping(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        // Anchors the boot at t0 + 1000 − 1000.
        #expect(try await store.commit(try message(1, sinceBoot: 1000)).stored)
        await #expect(throws: (any Error).self) {
            _ = try await store.commit(try message(2, synchronised: false, timestamp: 0, sinceBoot: UInt64(Int64.max)))
        }
        await #expect(throws: (any Error).self) {
            _ = try await store.commit(batch: [try message(3), try message(4, sinceBoot: UInt64(Int64.max))])
        }
        // Nothing of the failed ones was kept; the store goes on.
        #expect(try await store.commit(try message(2)).outcome == .stored)
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == 2)
    }

    /// ms since boot above the timestamp would anchor the boot before 1970
    /// (and time its readings into negative epochs, which no root can
    /// carry): stored and tallied at its own time, it anchors nothing.
    @Test(arguments: Kind.allCases)
    func aBootBefore1970IsNotAnchored(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        #expect(try await store.commit(try message(1, timestamp: t0 + 1000, sinceBoot: UInt64(t0 + 10_000))).stored)
        #expect(try await store.commit(try message(2, synchronised: false, timestamp: 0, sinceBoot: 5)).stored)
        let summary = try #require(try await store.device(serial: "dev-1"))
        #expect(summary.awaitingTime == 1 && summary.retimed == 0 && summary.highestContiguous == 2)
        #expect(try await store.tallies(TallyQuery(serial: "dev-1")).map(\.epochStart) == [t0])
        let key = Curve25519.Signing.PrivateKey()
        let closable = try await store.closableEpochs(now: t0 + 10 * 3_600_000)
        #expect(!closable.isEmpty && closable.allSatisfy { $0 >= 0 }, "\(closable)")
        for epoch in closable { _ = try await store.seal(epochStart: epoch, key: key, now: t0 + 10 * 3_600_000) }
    }

    @Test(arguments: Kind.allCases)
    func deadLettersAreKeptListedAndSettleTheirSequence(kind: Kind) async throws {
        let (store, reopen, stop) = try await open(kind)
        defer { stop() }
        #expect(try await store.commit(try message(1)).highestContiguous == 1)
        let poison = try message(2, value: 283)
        #expect(try await store.deadLetter(poison, error: "disk said no", tries: 5, at: t0 + 5000) == CommitResult(.deadLettered, highestContiguous: 2))
        #expect(try await store.commit(try message(3)) == CommitResult(.stored, highestContiguous: 3))
        // A redelivery is settled already: not stored, not tried again.
        #expect(try await store.commit(poison) == CommitResult(.duplicate, highestContiguous: 3))
        #expect(try await store.commit(batch: [poison, try message(4)]).map(\.outcome) == [.duplicate, .stored])
        #expect(try await !store.isStored(serial: "dev-1", sequence: 2))
        #expect(try await store.tallies(TallyQuery(serial: "dev-1")).first?.count == 3)

        // Kept across a reopen (a new connection pool for PostgreSQL).
        let again = try await reopen()
        let letters = try await again.deadLetters(serial: nil)
        #expect(letters == [DeadLetter(serial: "dev-1", sequence: 2, error: "disk said no", time: t0 + 5000, tries: 5, raw: poison.raw)])
        #expect(try await again.deadLetters(serial: "dev-1").count == 1)
        #expect(try await again.deadLetters(serial: "dev-2").isEmpty)
        #expect(try await again.device(serial: "dev-1")?.deadLettered == 1)
        #expect(try await again.device(serial: "dev-1")?.highestContiguous == 4)

        // A dead letter of an unknown device makes its device row.
        let lone = try message(1, floor: 0, serial: "dev-3")
        #expect(try await again.deadLetter(lone, error: "x", tries: 5, at: t0) == CommitResult(.deadLettered, highestContiguous: 1))

        // Listed page by page (the API's limit and cursor): every letter once, in order, one device's alone.
        for sequence in UInt64(5)...9 { _ = try await again.deadLetter(try message(sequence), error: "e\(sequence)", tries: 5, at: t0) }
        var seen: [DeadLetterKey] = []
        var page = PageRequest<DeadLetterKey>(limit: 2)
        while true {
            let next = try await again.deadLetters(serial: nil, page: page)
            #expect(next.items.count <= 2)
            seen += next.items.map(DeadLetterKey.init)
            guard next.more, let last = next.items.last else { break }
            page.after = DeadLetterKey(last)
        }
        #expect(seen.map { "\($0.serial)/\($0.sequence)" } == ["dev-1/2", "dev-1/5", "dev-1/6", "dev-1/7", "dev-1/8", "dev-1/9", "dev-3/1"])
        let third = try await again.deadLetters(serial: "dev-1", page: PageRequest(limit: 3, after: DeadLetterKey(serial: "dev-1", sequence: 5)))
        #expect(third.items.map(\.sequence) == [6, 7, 8] && third.more)
    }

    /// The pipeline over a real store that refuses one particular message:
    /// that message ends in the dead-letter table after the bounded tries,
    /// every other one is committed and acknowledged, and the Ack covers
    /// them all.
    // Without the bound this never ends: the limit turns that into a failure.
    @Test(.timeLimit(.minutes(1)), arguments: Kind.allCases)
    func aMessageTheStoreKeepsRefusingIsDeadLetteredAndTheStreamGoesOn(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let refusing = RefusingCommitter(store: store, refused: 3)
        let messages = try (UInt64(1)...6).map { try message($0, value: 280 + Double($0)) }
        let acks = RecordingAcks()
        let metrics = AggregatorMetrics()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let pipeline = VerificationPipeline(verifier: IndexVerifier(messages: messages), committer: refusing, acks: acks, workers: 2,
                                            maximumTries: 5, retryDelay: .milliseconds(1), metrics: metrics, logger: logger)
        let stream = AsyncStream<IncomingMessage> { continuation in
            for index in messages.indices { continuation.yield(IncomingMessage(topic: "t", payload: [UInt8(index)], receivedAt: t0)) }
            // The poison one again, after it was dead-lettered or while it is tried.
            continuation.yield(IncomingMessage(topic: "t", payload: [2], receivedAt: t0))
            continuation.finish()
        }
        await pipeline.run(stream, now: { 0 })

        // Five alone, and the one or two batches it failed first.
        #expect((5...7).contains(refusing.tries(of: 3)), "bounded tries: \(refusing.tries(of: 3))")
        let letters = try await store.deadLetters(serial: "dev-1")
        #expect(letters.map(\.sequence) == [3])
        #expect(letters.first?.tries == 5 && letters.first?.error.contains("refused on purpose") == true && letters.first?.raw == messages[2].raw)
        for sequence in [UInt64(1), 2, 4, 5, 6] { #expect(try await store.isStored(serial: "dev-1", sequence: sequence)) }
        #expect(try await !store.isStored(serial: "dev-1", sequence: 3))
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == 6)
        #expect(acks.last(serial: "dev-1") == 6)
        #expect(metrics.render().contains("fieldproof_messages_dead_lettered_total 1"), "\(metrics.render())")
    }

    /// A NaN that slipped past the verifier really fails SQLite's
    /// `sum REAL NOT NULL` (SQLite keeps NaN as NULL): dead-lettered, not
    /// retried forever with the writer waiting.
    @Test(.timeLimit(.minutes(1))) func aNaNThatReachesSQLiteIsDeadLettered() async throws {
        let path = try TemporaryDirectory.make(prefix: "poison-nan").appendingPathComponent("aggregator.sqlite").path
        let store = try SQLiteStore(path: path, calendar: calendar)
        let messages = [try message(1), try message(2, value: .nan), try message(3)]
        let acks = RecordingAcks()
        let metrics = AggregatorMetrics()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let pipeline = VerificationPipeline(verifier: IndexVerifier(messages: messages), committer: store, acks: acks, workers: 1,
                                            maximumTries: 3, retryDelay: .milliseconds(1), metrics: metrics, logger: logger)
        let stream = AsyncStream<IncomingMessage> { continuation in
            for index in messages.indices { continuation.yield(IncomingMessage(topic: "t", payload: [UInt8(index)], receivedAt: t0)) }
            continuation.finish()
        }
        await pipeline.run(stream, now: { 0 })
        let letters = try await store.deadLetters(serial: nil)
        #expect(letters.map(\.sequence) == [2] && letters.first?.tries == 3, "\(letters)")
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == 3)
        #expect(acks.last(serial: "dev-1") == 3)
        #expect(try await store.tallies(TallyQuery(serial: "dev-1")).first?.sum == 560)
    }

    /// A database made by an aggregator from before the outcomes: its commit
    /// functions return `was_stored BOOLEAN`, which `CREATE OR REPLACE`
    /// cannot change; they are replaced once and commits work.
    @Test func aDatabaseWithTheOldCommitFunctionsIsUpgraded() async throws {
        let server = try await PostgresServer.started()
        defer { server.stop() }
        let old = """
            CREATE FUNCTION fieldproof_commit(p_serial TEXT, p_sequence BIGINT, p_floor BIGINT, p_raw BYTEA, p_hash BYTEA, p_device_time BIGINT,
                p_received_at BIGINT, p_epoch_length BIGINT, p_synchronised BOOLEAN, p_boot_id BYTEA, p_ms_since_boot BIGINT,
                p_metrics TEXT[], p_units TEXT[], p_values DOUBLE PRECISION[])
            RETURNS TABLE (was_stored BOOLEAN, new_highest BIGINT) LANGUAGE sql AS $$ SELECT TRUE, 0::BIGINT $$;
            CREATE FUNCTION fieldproof_commit_batch(p_serials TEXT[], p_sequences BIGINT[], p_floors BIGINT[], p_raws BYTEA[], p_hashes BYTEA[],
                p_device_times BIGINT[], p_received_ats BIGINT[], p_epoch_length BIGINT, p_synchronised BOOLEAN[], p_boot_ids BYTEA[],
                p_ms_since_boots BIGINT[], p_reading_counts BIGINT[], p_metrics TEXT[], p_units TEXT[], p_values DOUBLE PRECISION[])
            RETURNS TABLE (was_stored BOOLEAN, new_highest BIGINT) LANGUAGE sql AS $$ SELECT TRUE, 0::BIGINT $$;
            """
        let created = try await ProcessRunner.run("/usr/bin/psql", [server.url, "-v", "ON_ERROR_STOP=1", "-c", old])
        try #require(created.status == 0, "\(created.output)")
        let store = try await PostgresStore(url: server.url, calendar: calendar)
        defer { store.close() }
        #expect(try await store.commit(try message(1)) == CommitResult(.stored, highestContiguous: 1))
        #expect(try await store.commit(batch: [try message(2), try message(1, value: 1)]).map(\.outcome) == [.stored, .conflict])
    }

    /// Two copies of one sequence back to back, the first slower to verify:
    /// the first that came is stored, the second is the conflict (counted,
    /// not tallied), whatever order their verifications finish in.
    @Test(.timeLimit(.minutes(1)), arguments: Kind.allCases)
    func theFirstCopyToArriveIsStoredAndTheSecondIsTheConflict(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let messages = [try message(1, value: 280), try message(1, value: 999), try message(2, value: 281)]
        let acks = RecordingAcks()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let verifier = IndexVerifier(messages: messages, delays: [0: .milliseconds(300)])
        // (The wrapper, refusing nothing, only makes the existential a committer.)
        let pipeline = VerificationPipeline(verifier: verifier, committer: RefusingCommitter(store: store, refused: 0), acks: acks, workers: 4,
                                            metrics: AggregatorMetrics(), logger: logger)
        let stream = AsyncStream<IncomingMessage> { continuation in
            for index in messages.indices { continuation.yield(IncomingMessage(topic: "t", payload: [UInt8(index)], receivedAt: t0)) }
            continuation.finish()
        }
        await pipeline.run(stream, now: { 0 })
        let collector = RawCollector()
        try await store.exportMessages(serial: "dev-1") { collector.append($0.raw) }
        #expect(collector.values == [messages[0].raw, messages[2].raw])
        #expect(try await store.device(serial: "dev-1")?.rejected == ["sequence_conflict": 1])
        #expect(try await store.tallies(TallyQuery(serial: "dev-1")).first?.maximum == 281)
        #expect(acks.last(serial: "dev-1") == 2)
    }

    /// `GET /api/v1/dead-letters` lists them (serial, sequence, error, time,
    /// size, base64 raw) and the device's summary counts them.
    @Test func deadLettersAreVisibleInTheAPI() async throws {
        let path = try TemporaryDirectory.make(prefix: "poison-api").appendingPathComponent("aggregator.sqlite").path
        let store = try SQLiteStore(path: path, calendar: calendar)
        _ = try await store.commit(try message(1))
        let poison = try message(2, value: 283)
        _ = try await store.deadLetter(poison, error: "disk said no", tries: 5, at: t0 + 5000)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: store, operations: nil, operatorToken: nil,
                                          metrics: AggregatorMetrics(), logger: logger)
        try await server.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/dead-letters", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "application/json")
                let list = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                let letter = try #require(list?.first)
                #expect(list?.count == 1)
                #expect(letter["serial"] as? String == "dev-1" && letter["sequence"] as? Int == 2 && letter["error"] as? String == "disk said no")
                #expect(letter["time"] as? Int == Int(t0 + 5000) && letter["size"] as? Int == poison.raw.count && letter["tries"] as? Int == 5)
                #expect((letter["raw"] as? String).flatMap { Data(base64Encoded: $0) } == Data(poison.raw))
            }
            try await client.execute(uri: "/api/v1/devices/dev-1", method: .get) { response in
                let device = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(device?["deadLettered"] as? Int == 1 && device?["highestContiguous"] as? Int == 2, "\(String(describing: device))")
            }
        }
    }

    @Test func theMetricsKnowEveryRejectionReason() {
        #expect(AggregatorMetrics.rejectionReasons == RejectionReason.allCases.map(\.rawValue))
        let text = AggregatorMetrics().render()
        #expect(text.contains("fieldproof_messages_dead_lettered_total 0"), "\(text)")
        for reason in RejectionReason.allCases {
            #expect(text.contains("reason=\"\(reason.rawValue)\""), "\(reason)")
        }
    }
}

/// Hands out prepared messages by the index in the payload's first byte.
struct IndexVerifier: MessageVerifier {
    let messages: [StoredMessage]
    /// How long verifying the message at an index takes.
    var delays: [Int: Duration] = [:]
    func verify(_ message: IncomingMessage) async -> VerificationOutcome<StoredMessage> {
        guard let index = message.payload.first.map(Int.init), messages.indices.contains(index) else {
            return .rejected(serial: nil, reason: "malformed")
        }
        if let delay = delays[index] { try? await Task.sleep(for: delay) }
        return .accepted(messages[index])
    }
}

/// A real store that fails every commit containing one sequence.
final class RefusingCommitter: MessageCommitter, Sendable {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused on purpose" }
    }

    let store: any AggregatorDataStore
    let refused: UInt64
    private let counts = Mutex<[UInt64: Int]>([:])

    init(store: any AggregatorDataStore, refused: UInt64) {
        self.store = store
        self.refused = refused
    }

    func tries(of sequence: UInt64) -> Int { counts.withLock { $0[sequence] ?? 0 } }

    func commit(_ message: StoredMessage) async throws -> CommitResult {
        try await commit(batch: [message])[0]
    }

    func commit(batch messages: [StoredMessage]) async throws -> [CommitResult] {
        // Refused until the store keeps it as a dead letter (then the store
        // answers: settled).
        if let poison = messages.first(where: { $0.sequence == refused }),
           try await !store.deadLetters(serial: poison.serial).contains(where: { $0.sequence == refused }) {
            counts.withLock { $0[refused, default: 0] += 1 }
            throw Refused()
        }
        return try await store.commit(batch: messages)
    }

    func recordRejection(serial: String?, reason: String) async throws {
        try await store.recordRejection(serial: serial, reason: reason)
    }

    func deadLetter(_ message: StoredMessage, error: String, tries: Int, at time: Int64) async throws -> CommitResult? {
        try await store.deadLetter(message, error: error, tries: tries, at: time)
    }
}

final class RecordingAcks: AckPublisher, Sendable {
    private let acks = Mutex<[String: UInt64]>([:])
    func publishAck(serial: String, upTo sequence: UInt64) async throws { acks.withLock { $0[serial] = max($0[serial] ?? 0, sequence) } }
    func last(serial: String) -> UInt64? { acks.withLock { $0[serial] } }
}

final class RawCollector: Sendable {
    private let collected = Mutex<[[UInt8]]>([])
    func append(_ value: [UInt8]) { collected.withLock { $0.append(value) } }
    var values: [[UInt8]] { collected.withLock { $0 } }
}
