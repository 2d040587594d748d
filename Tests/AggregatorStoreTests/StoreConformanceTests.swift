import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import TransparencyLog
import Wire
import Synchronization

/// The same behaviour from both stores: SQLite (a file) and PostgreSQL (a
/// real server started for the test, as the postgres user when root).
@Suite(.serialized) struct StoreConformanceTests {
    typealias Kind = StoreKind

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000 // an epoch boundary
    let hour: Int64 = 3_600_000
    let device = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x41, count: 32))
    /// The smallest scrypt cost the bounds allow: tests judge many PINs.
    static let fastKDF = PairRequest.KDFParameters(logN: 10, r: 8, p: 1)

    /// A store of `kind`, and what stops its server.
    func open(_ kind: Kind) async throws -> (any AggregatorDataStore, () -> Void) {
        let opened = try await kind.open(calendar: calendar, prefix: "conformance")
        return (opened.store, opened.stop)
    }

    func message(_ sequence: UInt64, floor: UInt64 = 0, at time: Int64, serial: String = "dev-1") throws -> StoredMessage {
        let telemetry = Telemetry(serial: serial, sequence: sequence, floor: floor, timestamp: UInt64(time), clockSynchronised: true,
                                  bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: sequence * 1000,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 280 + Double(sequence % 20), unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: time + 100)
    }

    /// Every stored message goes into the transparency log once, in commit
    /// order, inside the commit: a replay or a conflicting copy does not;
    /// the root is RFC 6962's over the stored messages' exact bytes.
    @Test(arguments: Kind.allCases)
    func storedMessagesAreAppendedToTheLogOnceInCommitOrder(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }
        #expect(try await store.logHead() == LogHead(size: 0, root: .emptyTree))
        var expected = MerkleTree()
        for sequence in [UInt64(3), 1, 2] {
            let stored = try message(sequence, at: t0 + Int64(sequence) * 1000)
            _ = try await store.commit(stored)
            expected.append(stored.raw)
        }
        _ = try await store.commit(try message(1, at: t0 + 1000)) // a replay
        var conflicting = try message(2, at: t0 + 2000)
        conflicting.raw += [0]
        conflicting.hash = Array(SHA256.hash(data: conflicting.raw))
        _ = try await store.commit(conflicting) // other bytes under a stored sequence
        // A batch, sorted by sequence (the order both stores commit a batch in), with a replay in it.
        let batch = try (4...20).map { try message(UInt64($0), at: t0 + Int64($0) * 1000) }
        _ = try await store.commit(batch: batch + [try message(3, at: t0 + 3000)])
        for stored in batch { expected.append(stored.raw) }
        let head = try await store.logHead()
        #expect(head.size == 20)
        #expect(head.root == expected.root(size: 20))
    }

    @Test(arguments: Kind.allCases)
    func commitsTalliesKeysPairingAndEpochs(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }

        // Exactly once; highest contiguous waits for gaps, moves past the floor.
        #expect(try await store.commit(try message(1, at: t0 + 1000)) == CommitResult(stored: true, highestContiguous: 1))
        #expect(try await store.commit(try message(1, at: t0 + 1000)) == CommitResult(stored: false, highestContiguous: 1))
        #expect(try await store.commit(try message(3, at: t0 + 3000)).highestContiguous == 1)
        #expect(try await store.commit(try message(2, at: t0 + 2000)).highestContiguous == 3)
        #expect(try await store.commit(try message(7, floor: 5, at: t0 + hour + 7000)).highestContiguous == 5)
        #expect(try await store.commit(try message(6, at: t0 + hour + 6000)).highestContiguous == 7)
        #expect(try await store.isStored(serial: "dev-1", sequence: 6))
        #expect(try await !store.isStored(serial: "dev-1", sequence: 4))
        let tallies = try await store.tallies(TallyQuery(serial: "dev-1"))
        #expect(tallies.map(\.count) == [3, 2] && tallies.map(\.epochStart) == [t0, t0 + hour])
        #expect(tallies.first?.minimum == 281 && tallies.first?.maximum == 283 && tallies.first?.mean == 282)
        #expect(try await store.tallies(TallyQuery(from: t0 + hour)).count == 1)
        try await store.recordRejection(serial: "dev-1", reason: "bad_signature")
        try await store.recordRejection(serial: "dev-1", reason: "bad_signature")
        let summary = try #require(try await store.device(serial: "dev-1"))
        #expect(summary.accepted == 5 && summary.highestContiguous == 7 && summary.rejected == ["bad_signature": 2])

        // Keys: enrolled-but-unpaired, bound, re-bound (old one retired), revoked.
        let (enrollment, pin) = try Enrollment.create(serial: "dev-2", expiresAt: UInt64(t0 + hour), maximumAttempts: 2, kdf: Self.fastKDF)
        try await store.saveEnrollment(enrollment, at: t0)
        #expect(try await store.deviceKeys(serial: "dev-2")?.current == nil)
        #expect(try await store.deviceKeys(serial: "nobody") == nil)
        let secret = DeviceSecret(bytes: [UInt8](repeating: 7, count: 32))
        let aggregator = try AggregatorIdentity(seed: [UInt8](repeating: 0x61, count: 32))
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        let wrong = try DevicePairing.makeRequest(serial: "dev-2", pin: try PIN(validating: "00000000"), secret: secret, board: "b", sensors: [],
                                                  time: UInt64(t0), aggregator: aggregator.publicKeys, kdf: Self.fastKDF)
        let refused = try await judge.judge(bytes: wrong.message, topic: Topics.pairRequest("dev-2"), now: t0).get().0
        #expect(refused == .wrongPIN(attemptsLeft: 1))
        let right = try DevicePairing.makeRequest(serial: "dev-2", pin: pin, secret: secret, board: "raspberry-pi-5",
                                                  sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 1000)], time: UInt64(t0),
                                                  aggregator: aggregator.publicKeys, kdf: Self.fastKDF)
        let accepted = try await judge.judge(bytes: right.message, topic: Topics.pairRequest("dev-2"), now: t0).get().0
        guard case .accepted = accepted else { Issue.record("\(accepted)"); return }
        let again = try await judge.judge(bytes: right.message, topic: Topics.pairRequest("dev-2"), now: t0).get().0
        #expect(again == .stale || again == .alreadyUsed, "a replayed or second request does not pair again: \(again)")
        let bound = try #require(try await store.deviceKeys(serial: "dev-2"))
        #expect(bound.currentKeyID == KeyID.of(right.identityKey.publicKey))
        let newKey = Curve25519.Signing.PrivateKey()
        try await store.bindKey(serial: "dev-2", publicKey: newKey.publicKey, at: t0 + 1, logKey: TestAggregator.logKey)
        #expect(try await store.deviceKeys(serial: "dev-2")?.retiredKeyIDs == [KeyID.of(right.identityKey.publicKey)])
        #expect(try await store.revoke(serial: "dev-2", at: t0, logKey: TestAggregator.logKey))
        #expect(try await store.deviceKeys(serial: "dev-2")?.revoked == true)
        #expect(try await !store.revoke(serial: "nobody", at: t0, logKey: TestAggregator.logKey))

        // Epochs: sealed once, the root is the RFC 6962 root of the sorted hashes.
        try await store.bindKey(serial: "dev-1", publicKey: device.publicKey, at: t0, logKey: TestAggregator.logKey)
        #expect(try await store.closableEpochs(now: t0 + hour + 300_000) == [t0])
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x51, count: 32))
        let sealed = try #require(try await store.seal(epochStart: t0, key: key, now: t0 + hour + 300_000))
        let hashes = try [1, 2, 3].map { try message(UInt64($0), at: t0 + Int64($0) * 1000).hash }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(sealed.root.root == EpochTree.root(hashes.map(EpochTree.leafHash)) && sealed.root.messageCount == 3)
        #expect(try await store.seal(epochStart: t0, key: key, now: t0 + hour + 300_000) == nil)
        let proof = try #require(try await store.proof(epoch: sealed.root.id, serial: "dev-1", sequence: 2))
        #expect(try InclusionProof(decoding: proof).check(aggregatorKey: key.publicKey).telemetry.sequence == 2)
        #expect(try await store.epochs().map(\.id) == [sealed.root.id])
        // A late message for the sealed hour counts in the hour it arrived in.
        var late = try message(4, at: t0 + 4000)
        late.receivedAt = t0 + 2 * hour + 5
        #expect(try await store.commit(late).stored)
        #expect(try await store.messageHashes(epochStart: t0) == hashes)
        #expect(try await store.messageHashes(epochStart: t0 + 2 * hour) == [late.hash])

        // Data quality per metric and epoch, every check visible.
        let latest = try #require(try await store.quality(serial: "dev-1", epochStart: nil, now: t0 + 2 * hour + 1))
        #expect(latest.epochStart == t0 + hour && latest.metrics.map(\.metric) == ["air/temperature"] && latest.metrics.first?.samples == 2)
        #expect(latest.metrics.first?.quality.checks.map(\.name) == ["completeness", "validity", "not_stuck", "no_jumps"])
        let first = try #require(try await store.quality(serial: "dev-1", epochStart: t0, now: t0 + 2 * hour + 1))
        #expect(first.metrics.first?.samples == 4 && first.score > 0 && first.score <= 1)
        #expect(first.metrics.first?.quality.checks.first { $0.name == "validity" }?.value == 1, "280–283 K is plausible")
        #expect(try await store.quality(serial: "nobody", epochStart: nil, now: t0 + 2 * hour) == nil)

        let exported = ExportCollector()
        try await store.exportMessages(serial: "dev-1") { exported.append($0.sequence) }
        #expect(exported.values == [1, 2, 3, 4, 6, 7])
        #expect(try await store.latestReadings(limit: 10).first?.recent.count == 6)
    }

    /// A message of a device without a trustworthy clock yet, or with one.
    func bootMessage(_ sequence: UInt64, synchronised: Bool, timestamp: Int64, sinceBoot: UInt64, boot: UInt8, receivedAt: Int64) throws -> StoredMessage {
        let telemetry = Telemetry(serial: "dev-r", sequence: sequence, floor: 0, timestamp: UInt64(timestamp), clockSynchronised: synchronised,
                                  bootID: [UInt8](repeating: boot, count: 16), millisecondsSinceBoot: sinceBoot,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 290 + Double(sequence), unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: receivedAt)
    }

    /// Readings taken before the clock was synchronised are not tallied at
    /// the wrong time: they wait (stored, acknowledged) until a synchronised
    /// message of the same boot anchors it, then count at anchor + ms since
    /// boot, in the epoch they really belong to, marked re-timed.
    @Test(arguments: Kind.allCases)
    func unsynchronisedReadingsAreRetimedFromTheirBoot(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }
        let anchor = t0 - 15_000 // the board booted 15 s before the hour
        let arrival = t0 + hour + 60_000 // all of it arrives an hour later (spool)
        // Sequences 1 and 2 stamped by a clock stuck in 1970.
        #expect(try await store.commit(try bootMessage(1, synchronised: false, timestamp: 10_000, sinceBoot: 10_000, boot: 1, receivedAt: arrival))
                == CommitResult(stored: true, highestContiguous: 1))
        #expect(try await store.commit(try bootMessage(2, synchronised: false, timestamp: 20_000, sinceBoot: 20_000, boot: 1, receivedAt: arrival))
                .stored)
        #expect(try await store.tallies(TallyQuery(serial: "dev-r")).isEmpty, "no epoch in 1970, no guess")
        var summary = try #require(try await store.device(serial: "dev-r"))
        #expect(summary.accepted == 2 && summary.awaitingTime == 2 && summary.retimed == 0)
        // Untimed messages count in the Merkle tree of the epoch they arrived in.
        #expect(try await store.messageHashes(epochStart: t0 + hour).count == 2)

        // NTP: sequence 3 is synchronised, 30 s after boot.
        #expect(try await store.commit(try bootMessage(3, synchronised: true, timestamp: anchor + 30_000, sinceBoot: 30_000, boot: 1,
                                                       receivedAt: arrival)).highestContiguous == 3)
        var tallies = try await store.tallies(TallyQuery(serial: "dev-r"))
        #expect(tallies.map(\.epochStart) == [t0 - hour, t0], "sequence 1 at anchor + 10 s is before the hour")
        #expect(tallies.map(\.count) == [1, 2])
        #expect(tallies.first?.minimum == 291 && tallies.last?.sum == 292 + 293)
        summary = try #require(try await store.device(serial: "dev-r"))
        #expect(summary.awaitingTime == 0 && summary.retimed == 2)

        // A late unsynchronised message of the anchored boot is timed at once.
        #expect(try await store.commit(try bootMessage(4, synchronised: false, timestamp: 40_000, sinceBoot: 40_000, boot: 1, receivedAt: arrival))
                .stored)
        tallies = try await store.tallies(TallyQuery(serial: "dev-r"))
        #expect(tallies.map(\.count) == [1, 3])
        // Another boot has no anchor yet: its message waits.
        #expect(try await store.commit(try bootMessage(5, synchronised: false, timestamp: 5_000, sinceBoot: 5_000, boot: 2, receivedAt: arrival))
                .stored)
        summary = try #require(try await store.device(serial: "dev-r"))
        #expect(summary.awaitingTime == 1 && summary.retimed == 3 && summary.accepted == 5)
        #expect(try await store.tallies(TallyQuery(serial: "dev-r")).map(\.count) == [1, 3])

        // Quality is judged at the re-timed times: three samples in the hour.
        let quality = try #require(try await store.quality(serial: "dev-r", epochStart: t0, now: arrival))
        #expect(quality.metrics.first?.samples == 3)
    }

    /// Group commit: one transaction for several messages, each with its own
    /// result in the order given (a duplicate within the batch is stored
    /// once; the highest contiguous sequence covers the whole batch).
    @Test(arguments: Kind.allCases)
    func aBatchCommitsEachMessageOnce(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }
        let batch = try [message(3, at: t0 + 3000, serial: "dev-a"), message(1, at: t0 + 1000, serial: "dev-a"),
                         message(1, at: t0 + 1000, serial: "dev-a"), message(2, at: t0 + 2000, serial: "dev-b"),
                         message(2, at: t0 + 2000, serial: "dev-a")]
        let results = try await store.commit(batch: batch)
        #expect(results.count == 5)
        #expect(results[0].stored && results[3].stored && results[4].stored)
        #expect([results[1].stored, results[2].stored].filter { $0 }.count == 1, "the repeated message is stored once: \(results)")
        #expect(results.filter { $0.stored }.count == 4)
        #expect([0, 1, 2, 4].map { results[$0].highestContiguous }.max() == 3)
        #expect(results[3].highestContiguous == 0, "dev-b has no sequence 1")
        #expect(try await store.tallies(TallyQuery(serial: "dev-a")).map(\.count) == [3])
        #expect(try await store.device(serial: "dev-a")?.accepted == 3)
        // Everything again: nothing new.
        #expect(try await store.commit(batch: batch).allSatisfy { !$0.stored })
        #expect(try await store.tallies(TallyQuery(serial: "dev-a")).map(\.count) == [3])
    }
}

final class ExportCollector: Sendable {
    private let collected = Mutex<[UInt64]>([])
    func append(_ value: UInt64) { collected.withLock { $0.append(value) } }
    var values: [UInt64] { collected.withLock { $0 } }
}
