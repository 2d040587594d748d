import Foundation
@testable import Agent
import Testing
import Synchronization

@Suite struct SpoolTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString.prefix(8))").path
    }

    func spool(maximumBytes: Int = 1 << 20, segmentBytes: Int = 4096, durability: SpoolDurability = .everyRecord, keepUntilLogged: Bool = false,
               now: @escaping () -> UInt64 = { 1_700_000_000_000 }) throws -> Spool {
        try Spool(configuration: SpoolConfiguration(directory: directory, maximumBytes: maximumBytes,
                                                    segmentBytes: segmentBytes, durability: durability, keepUntilLogged: keepUntilLogged), now: now)
    }

    func payload(_ sequence: UInt64, size: Int = 100) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: Int(sequence) &* 31 &+ $0) }
    }

    func segmentFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.sorted()
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func recordsSurviveReopeningInOrderAcrossSegments() throws {
        do {
            let spool = try spool()
            for sequence in 1...200 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
            #expect(spool.statistics.records == 200)
        }
        #expect(try segmentFiles().count > 1, "4 KiB segments must rotate")
        let reopened = try spool()
        let records = try reopened.records()
        #expect(records.map(\.sequence) == (1...200).map(UInt64.init))
        #expect(records.allSatisfy { $0.payload == payload($0.sequence) })
        #expect(reopened.statistics.truncatedTails == 0)
        #expect(try reopened.records(after: 150, limit: 10).map(\.sequence) == (151...160).map(UInt64.init))
    }

    @Test func acknowledgementRemovesRecordsAndSegments() throws {
        let spool = try spool()
        for sequence in 1...200 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        let filesBefore = try segmentFiles().count
        try spool.acknowledge(upTo: 120)
        #expect(spool.statistics.records == 80)
        #expect(spool.statistics.acknowledgedUpTo == 120)
        #expect(try spool.records().first?.sequence == 121)
        #expect(try segmentFiles().count < filesBefore)
        // The watermark survives a restart.
        let reopened = try self.spool()
        #expect(reopened.statistics.records == 80)
        #expect(try reopened.records().first?.sequence == 121)
        try reopened.acknowledge(upTo: 200)
        #expect(reopened.statistics.records == 0)
        #expect(try segmentFiles().isEmpty)
        try reopened.append(sequence: 201, payload: [1])
        #expect(try reopened.records().map(\.sequence) == [201])
    }

    /// A device that audits the log keeps acknowledged records until a log
    /// receipt proves them (issue 16 item 4): nothing is resent, but the
    /// bytes stay to check the next receipt against.
    @Test func acknowledgedRecordsStayUntilTheLogProvesThem() throws {
        do {
            let spool = try spool(keepUntilLogged: true)
            for sequence in 1...200 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
            let filesBefore = try segmentFiles().count
            try spool.acknowledge(upTo: 150)
            #expect(spool.statistics.records == 50, "only unacknowledged records wait to be sent")
            #expect(try spool.records().first?.sequence == 151)
            #expect(spool.statistics.unprovenRecords == 150)
            #expect(try segmentFiles().count == filesBefore, "no segment goes before the log proves it")
            #expect(try spool.record(sequence: 7)?.payload == payload(7), "an acknowledged record is still readable")
            #expect(try spool.record(sequence: 201) == nil && spool.record(sequence: 0) == nil)

            try spool.markLogged(upTo: 100)
            #expect(spool.statistics.unprovenRecords == 50 && spool.statistics.loggedUpTo == 100)
            #expect(try segmentFiles().count < filesBefore)
            #expect(try spool.record(sequence: 101)?.payload == payload(101))
        }
        // Both watermarks survive a restart.
        let reopened = try spool(keepUntilLogged: true)
        #expect(reopened.statistics.records == 50 && reopened.statistics.unprovenRecords == 50 && reopened.statistics.loggedUpTo == 100)
        #expect(try reopened.records().first?.sequence == 151)
        // Proven beyond the acknowledgement: only what is acknowledged goes.
        try reopened.markLogged(upTo: 180)
        #expect(reopened.statistics.records == 50 && reopened.statistics.unprovenRecords == 0)
        try reopened.acknowledge(upTo: 200)
        #expect(reopened.statistics.unprovenRecords == 20)
        try reopened.markLogged(upTo: 200)
        #expect(try segmentFiles().isEmpty)
    }

    @Test func aFullSpoolCountsAcknowledgedButUnprovenRecordsItDrops() throws {
        let spool = try spool(maximumBytes: 8192, segmentBytes: 4096, keepUntilLogged: true)
        for sequence in 1...32 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        try spool.acknowledge(upTo: 20)
        try spool.markLogged(upTo: 5)
        for sequence in 33...80 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        let kept = try spool.records().map(\.sequence)
        #expect(spool.statistics.droppedRecords == UInt64(80 - 20 - kept.count), "unacknowledged records lost")
        #expect(spool.statistics.unprovenDropped == 15, "records 6...20: acknowledged, never proven logged")
    }

    @Test func aTornTailIsTruncatedAndCounted() throws {
        do {
            let spool = try spool(segmentBytes: 1 << 16)
            for sequence in 1...10 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        }
        let file = directory + "/" + (try #require(try segmentFiles().last))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        // Cut the last record in half, as a power cut during write would.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: UInt64(size - 50))
        try handle.close()

        let recovered = try spool(segmentBytes: 1 << 16)
        #expect(try recovered.records().map(\.sequence) == (1...9).map(UInt64.init))
        #expect(recovered.statistics.truncatedTails == 1)
        #expect(recovered.statistics.truncatedBytes == UInt64(128 - 50))
        try recovered.append(sequence: 11, payload: [7])
        #expect(try recovered.records().map(\.sequence).suffix(2) == [9, 11])
    }

    @Test func aCorruptByteCutsTheRestOfItsSegment() throws {
        do {
            let spool = try spool(segmentBytes: 1 << 16)
            for sequence in 1...10 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        }
        let file = directory + "/" + (try #require(try segmentFiles().first))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[5 * 128 + 40] ^= 0x01 // inside record 6's payload
        try bytes.write(to: URL(fileURLWithPath: file))
        let recovered = try spool(segmentBytes: 1 << 16)
        #expect(try recovered.records().map(\.sequence) == (1...5).map(UInt64.init))
        #expect(recovered.statistics.truncatedTails == 1)
        #expect(recovered.statistics.truncatedBytes == 5 * 128)
    }

    @Test func aFullSpoolDropsTheOldestAndCountsThem() throws {
        // 128-byte records, 4 KiB segments (32 records), 16 KiB in all.
        let spool = try spool(maximumBytes: 16384, segmentBytes: 4096)
        for sequence in 1...200 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        let statistics = spool.statistics
        #expect(statistics.bytes <= 16384)
        let kept = try spool.records().map(\.sequence)
        #expect(kept.last == 200)
        #expect(kept == (kept[0]...200).map { $0 }, "what is kept is the newest, contiguous")
        #expect(statistics.droppedRecords == UInt64(200 - kept.count))
        #expect(statistics.records == kept.count)
        #expect(try self.spool(maximumBytes: 16384, segmentBytes: 4096).statistics.droppedRecords == statistics.droppedRecords)
    }

    @Test func droppingCountsOnlyUnacknowledgedRecords() throws {
        let spool = try spool(maximumBytes: 8192, segmentBytes: 4096)
        for sequence in 1...32 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        try spool.acknowledge(upTo: 10)
        for sequence in 33...80 { try spool.append(sequence: UInt64(sequence), payload: payload(UInt64(sequence))) }
        let kept = try spool.records().map(\.sequence)
        #expect(spool.statistics.droppedRecords == UInt64(80 - 10 - kept.count))
    }

    @Test func oldestRecordAgeIsReported() throws {
        let clock = ManualClock(start: 1000)
        let spool = try spool(now: clock.read)
        try spool.append(sequence: 1, payload: [1])
        clock.advance(by: 500)
        try spool.append(sequence: 2, payload: [2])
        #expect(spool.statistics.oldestAppendedAt == 1000)
        #expect(spool.statistics.oldestSequence == 1)
        try spool.acknowledge(upTo: 1)
        #expect(spool.statistics.oldestAppendedAt == 1500)
        #expect(spool.statistics.oldestSequence == 2)
        try spool.acknowledge(upTo: 2)
        #expect(spool.statistics.oldestSequence == nil)
    }

    @Test func groupCommitSyncsOnlyWhenTheIntervalPassed() throws {
        let clock = ManualClock(start: 10_000)
        let spool = try spool(durability: .groupCommit(milliseconds: 200), now: clock.read)
        try spool.append(sequence: 1, payload: [1])
        for sequence in 2...5 { try spool.append(sequence: UInt64(sequence), payload: [UInt8(sequence)]) }
        // Whatever was synced, reading sees everything appended.
        #expect(try spool.records().count == 5)
    }

    @Test func sequencesMustIncrease() throws {
        let spool = try spool()
        try spool.append(sequence: 5, payload: [1])
        #expect(throws: AgentError.self) { try spool.append(sequence: 5, payload: [1]) }
        #expect(throws: AgentError.self) { try spool.append(sequence: 3, payload: [1]) }
    }

    @Test func aRecordLargerThanASegmentIsRefusedWithTheFix() throws {
        let spool = try spool(segmentBytes: 4096)
        #expect(throws: AgentError.recordTooLarge(size: 5028, limit: 4096)) {
            try spool.append(sequence: 1, payload: [UInt8](repeating: 0, count: 5000))
        }
    }
}

final class ManualClock: Sendable {
    private let value: Mutex<UInt64>
    init(start: UInt64) { value = Mutex(start) }
    func advance(by milliseconds: UInt64) { value.withLock { $0 += milliseconds } }
    func rewind(by milliseconds: UInt64) { value.withLock { $0 -= milliseconds } }
    func read() -> UInt64 { value.withLock { $0 } }
}
