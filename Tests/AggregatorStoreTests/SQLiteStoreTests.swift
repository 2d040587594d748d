import Aggregator
@testable import AggregatorStore
import GRDB
import Foundation
import Testing
import TestSupport

@Suite struct SQLiteStoreTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(60))
    let hour: Int64 = 3_600_000
    let t0: Int64 = 1_795_557_600_000 // an epoch boundary (498,766 hours)

    func store() throws -> (SQLiteStore, String) {
        let path = try TemporaryDirectory.make(prefix: "sqlite-store").appendingPathComponent("aggregator.sqlite").path
        return (try SQLiteStore(path: path, calendar: calendar), path)
    }

    /// `floor` defaults to 0: nothing settled on the device beyond what the
    /// aggregator has, as when every earlier message is still spooled.
    func message(_ sequence: UInt64, serial: String = "dev-1", floor: UInt64? = nil, at time: Int64? = nil,
                 temperature: Double = 294.65) -> StoredMessage {
        StoredMessage(serial: serial, sequence: sequence, floor: floor ?? 0, raw: Array("message \(serial) \(sequence)".utf8),
                      hash: Array(repeating: UInt8(truncatingIfNeeded: sequence), count: 32), timestamp: time ?? t0 + Int64(sequence) * 1000,
                      receivedAt: t0 + Int64(sequence) * 1000 + 50,
                      readings: [.init(metric: "air/temperature", unit: "K", value: temperature), .init(metric: "light/illuminance", unit: "lx", value: 800)])
    }

    @Test func aRedeliveredMessageChangesNothing() async throws {
        let (store, _) = try store()
        #expect(try await store.commit(message(1)) == CommitResult(stored: true, highestContiguous: 1))
        #expect(try await store.commit(message(1)) == CommitResult(stored: false, highestContiguous: 1))
        let tallies = try await store.tallies(serial: "dev-1")
        #expect(tallies.map(\.count) == [1, 1], "counted once")
        #expect(try await store.device(serial: "dev-1")?.accepted == 1)
    }

    @Test func highestContiguousWaitsForGapsAndMovesPastSettledOnes() async throws {
        let (store, _) = try store()
        #expect(try await store.commit(message(1)).highestContiguous == 1)
        #expect(try await store.commit(message(3)).highestContiguous == 1, "2 is missing")
        #expect(try await store.commit(message(4)).highestContiguous == 1)
        #expect(try await store.commit(message(2)).highestContiguous == 4, "2 fills the gap: 3 and 4 follow")
        // The device dropped 5…9 from a full spool and says so with its floor.
        #expect(try await store.commit(message(10, floor: 9)).highestContiguous == 10)
        #expect(try await store.commit(message(12)).highestContiguous == 10)
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == 10)
    }

    @Test func talliesKeepCountMinMaxSumAndMeanPerDeviceMetricAndEpoch() async throws {
        let (store, _) = try store()
        for (sequence, value) in [(1, 290.0), (2, 300.0), (3, 295.0)] {
            _ = try await store.commit(message(UInt64(sequence), temperature: value))
        }
        _ = try await store.commit(message(4, at: t0 + hour + 5, temperature: 280))
        _ = try await store.commit(message(1, serial: "dev-2", temperature: 310))
        let rows = try await store.tallies(serial: "dev-1").filter { $0.metric == "air/temperature" }
        #expect(rows.count == 2, "two epochs")
        let first = try #require(rows.first)
        #expect(first.epochStart == t0 && first.epochEnd == t0 + hour)
        #expect(first.count == 3 && first.minimum == 290 && first.maximum == 300 && first.sum == 885)
        #expect(abs(first.mean - 295) < 1e-9)
        #expect(rows[1].count == 1 && rows[1].epochStart == t0 + hour)
        #expect(try await store.tallies(from: t0 + hour).map(\.serial) == ["dev-1", "dev-1"], "epoch filter")
        #expect(try await store.tallies(serial: "dev-2").count == 2)
    }

    @Test func rejectionsAreCountedByDeviceAndReason() async throws {
        let (store, _) = try store()
        try await store.recordRejection(serial: "dev-1", reason: "bad_signature")
        try await store.recordRejection(serial: "dev-1", reason: "bad_signature")
        try await store.recordRejection(serial: "dev-1", reason: "timestamp_in_future")
        try await store.recordRejection(serial: nil, reason: "malformed")
        #expect(try await store.rejections(serial: "dev-1") == ["bad_signature": 2, "timestamp_in_future": 1])
        #expect(try await store.rejections(serial: "") == ["malformed": 1])
    }

    /// An Ack goes out after each commit and lets the device delete what it
    /// covers, so a commit must be on disk when it returns, not at the next
    /// checkpoint (GRDB's WAL default, synchronous = NORMAL, 1).
    @Test func theWriterSyncsEveryCommit() async throws {
        let (store, _) = try store()
        let level = try await store.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(level == 2, "synchronous = FULL")
    }

    @Test func everythingSurvivesReopeningTheFile() async throws {
        let (store, path) = try store()
        for sequence in UInt64(1)...50 { _ = try await store.commit(message(sequence)) }
        let reopened = try SQLiteStore(path: path, calendar: calendar)
        #expect(try await reopened.device(serial: "dev-1")?.highestContiguous == 50)
        #expect(try await reopened.commit(message(50)).stored == false)
        #expect(try await reopened.messageHashes(epochStart: t0).count == 50)
    }

    @Test func concurrentCommitsOfTheSameMessagesCountEachOnce() async throws {
        let (store, _) = try store()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for sequence in UInt64(1)...200 { _ = try? await store.commit(message(sequence)) }
                }
            }
        }
        #expect(try await store.device(serial: "dev-1")?.accepted == 200)
        #expect(try await store.tallies(serial: "dev-1").first { $0.metric == "air/temperature" }?.count == 200)
        #expect(try await store.device(serial: "dev-1")?.highestContiguous == 200)
    }
}
