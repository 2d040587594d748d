@testable import Aggregator
import Foundation
import Synchronization

/// A read model holding fixed answers, so the HTTP layer is tested on its
/// own (the store has its own tests).
struct MemoryReadModel: AggregatorReadModel {
    var deviceList: [DeviceSummary]
    var tallyRows: [TallyRow]
    var buckets: [ActivityBucket]
    var readings: [LatestReading]
    var epochList: [EpochSummary]
    var proofs: [String: [UInt8]]
    let queries = QueryLog()

    final class QueryLog: Sendable {
        private let items = Mutex<[TallyQuery]>([])
        func append(_ query: TallyQuery) { items.withLock { $0.append(query) } }
        var all: [TallyQuery] { items.withLock { $0 } }
    }

    static let sample = MemoryReadModel(
        deviceList: [
            DeviceSummary(serial: "fp-0001", keyID: "a1b2c3", pairedAt: 1_700_000_000_000, accepted: 1200, rejected: ["bad_signature": 3],
                          firstSeen: 1_700_000_000_000, lastSeen: 1_700_003_600_000, highestContiguous: 1200, coverage: 0.98, quality: 0.91),
            DeviceSummary(serial: "fp-<b>", accepted: 0),
        ],
        tallyRows: [
            TallyRow(serial: "fp-0001", metric: "air/temperature", unit: "K", epochStart: 1_700_000_000_000, epochEnd: 1_700_003_600_000,
                     count: 4, minimum: 290, maximum: 294.5, sum: 1169),
            TallyRow(serial: "fp-0001", metric: "air,odd \"name\"", unit: "1", epochStart: 1_700_000_000_000, epochEnd: 1_700_003_600_000,
                     count: 2, minimum: 0.25, maximum: 0.75, sum: 1),
        ],
        buckets: (0..<24).map { ActivityBucket(start: Int64($0) * 3_600_000, accepted: UInt64($0 * 10), rejected: UInt64($0 % 3)) },
        readings: [LatestReading(serial: "fp-0001", metric: "air/temperature", value: 294.65, unit: "K", at: 1_700_003_600_000,
                                 recent: [293, 293.5, 294, 294.65])],
        epochList: [EpochSummary(id: "2023-11-14T22", start: 1_700_000_000_000, end: 1_700_003_600_000, messageCount: 1200,
                                 root: String(repeating: "ab", count: 32), signature: String(repeating: "cd", count: 64),
                                 aggregatorKey: String(repeating: "ef", count: 32))],
        proofs: ["2023-11-14T22/fp-0001/7": [0xA2, 0x01, 0x02]])

    func devices() async throws -> [DeviceSummary] { deviceList }
    func device(serial: String) async throws -> DeviceSummary? { deviceList.first { $0.serial == serial } }
    func tallies(_ query: TallyQuery) async throws -> [TallyRow] {
        queries.append(query)
        return tallyRows.filter { query.serial == nil || $0.serial == query.serial }
    }
    /// Pages in the fixed lists' own order: what follows the item whose key is `after`.
    static func page<Item, Key: Equatable>(_ items: [Item], _ request: PageRequest<Key>, key: (Item) -> Key) -> Page<Item> {
        let start = request.after.map { after in (items.firstIndex { key($0) == after } ?? items.endIndex - 1) + 1 } ?? 0
        return Page(fetched: Array(items[min(start, items.count)...].prefix(request.limit + 1)), limit: request.limit)
    }
    func devices(page: PageRequest<String>) async throws -> Page<DeviceSummary> { Self.page(deviceList, page, key: \.serial) }
    func tallies(_ query: TallyQuery, page: PageRequest<TallyKey>) async throws -> Page<TallyRow> {
        Self.page(try await tallies(query), page, key: TallyKey.init)
    }
    func epochs(page: PageRequest<Int64>) async throws -> Page<EpochSummary> { Self.page(epochList, page, key: \.start) }
    func activity(buckets: Int, bucketMilliseconds: Int64, now: Int64) async throws -> [ActivityBucket] { self.buckets }
    func latestReadings(limit: Int) async throws -> [LatestReading] { Array(readings.prefix(limit)) }
    func epochs() async throws -> [EpochSummary] { epochList }
    func epoch(id: String) async throws -> EpochSummary? { epochList.first { $0.id == id } }
    func proof(epoch: String, serial: String, sequence: UInt64) async throws -> [UInt8]? { proofs["\(epoch)/\(serial)/\(sequence)"] }
    var qualities: [DeviceQuality] = []
    func quality(serial: String, epochStart: Int64?, now: Int64) async throws -> DeviceQuality? {
        qualities.filter { $0.serial == serial && (epochStart == nil || $0.epochStart == epochStart) }.max { $0.epochStart < $1.epochStart }
    }
}

final class RecordingOperations: AggregatorOperations, Sendable {
    private let enrollments = Mutex<[(String, Duration)]>([])
    var enrolled: [(String, Duration)] { enrollments.withLock { $0 } }
    func enroll(serial: String, expiresIn: Duration) async throws -> (pin: String, expiresAt: Int64) {
        enrollments.withLock { $0.append((serial, expiresIn)) }
        return ("12345678", 1_700_086_400_000)
    }
    func revoke(serial: String) async throws -> Bool { serial == "fp-0001" }
    var aggregatorFingerprint: String? { "3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a" }
}
