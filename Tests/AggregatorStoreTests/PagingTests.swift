import Aggregator
import AggregatorStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport
import Wire

/// Paging of `/api/v1/devices`, `/tallies` and `/epochs` through the HTTP
/// API on both real stores.
@Suite(.serialized) struct PagingTests {
    typealias Kind = StoreKind

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000 // an epoch boundary
    let hour: Int64 = 3_600_000
    let device = Curve25519.Signing.PrivateKey()
    static let nextCursor = HTTPField.Name("X-Next-Cursor")!

    func open(_ kind: Kind) async throws -> (any AggregatorDataStore, () -> Void) {
        let opened = try await kind.open(calendar: calendar, prefix: "paging")
        return (opened.store, opened.stop)
    }

    /// Two readings (two metrics) in the epoch of `time`.
    func message(serial: String, sequence: UInt64, at time: Int64) throws -> StoredMessage {
        let telemetry = Telemetry(serial: serial, sequence: sequence, floor: 0, timestamp: UInt64(time), clockSynchronised: true,
                                  bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: sequence * 1000,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 280, unit: "K"),
                                             .init(sensor: "air", quantity: "humidity", value: 0.5, unit: "1")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: time + 100)
    }

    func server(_ store: any AggregatorDataStore) -> AggregatorHTTPServer {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: store,
                                    operations: StoreOperations(store: store, identity: TestAggregator.identity, maximumAttempts: 5, pinLength: 8),
                                    operatorToken: "0123456789abcdef", metrics: AggregatorMetrics(), logger: logger)
    }

    /// Every page of `path` with `limit`, following X-Next-Cursor; the items of each.
    func pages<Item: Decodable>(_ client: some TestClientProtocol, _ path: String, limit: Int, as: Item.Type) async throws -> [[Item]] {
        var pages: [[Item]] = []
        var uri = "\(path)?limit=\(limit)"
        while pages.count < 1000 {
            let (items, next): ([Item], String?) = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok, "\(uri): \(String(buffer: response.body))")
                return (try JSONDecoder().decode([Item].self, from: Data(buffer: response.body)), response.headers[Self.nextCursor])
            }
            pages.append(items)
            guard let next else { break }
            uri = "\(path)?limit=\(limit)&cursor=\(next)"
        }
        return pages
    }

    @Test(arguments: Kind.allCases)
    func pagingGivesEveryRowExactlyOnce(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }
        // 7 devices × 3 epochs × 2 metrics = 42 tallies; 3 sealed epochs.
        let serials = (1...7).map { "dev-\($0)" }
        for (index, serial) in serials.enumerated() {
            for epoch in 0..<3 {
                _ = try await store.commit(try message(serial: serial, sequence: UInt64(epoch + 1), at: t0 + Int64(epoch) * hour + Int64(index) * 1000))
            }
        }
        let key = Curve25519.Signing.PrivateKey()
        for epoch in 0..<3 {
            _ = try #require(try await store.seal(epochStart: t0 + Int64(epoch) * hour, key: key, now: t0 + 4 * hour))
        }
        let allTallies = try await store.tallies(TallyQuery())
        #expect(allTallies.count == 42)

        try await server(store).application().test(.router) { client in
            let devicePages = try await pages(client, "/api/v1/devices", limit: 3, as: DeviceSummary.self)
            #expect(devicePages.map(\.count) == [3, 3, 1])
            #expect(devicePages.flatMap { $0 }.map(\.serial) == serials)

            for limit in [1, 5, 42, 10_000] {
                let tallyPages = try await pages(client, "/api/v1/tallies", limit: limit, as: TallyRow.self)
                #expect(tallyPages.flatMap { $0 } == allTallies, "limit \(limit)")
                #expect(tallyPages.count == (42 + limit - 1) / limit, "limit \(limit)")
                #expect(tallyPages.allSatisfy { $0.count <= limit })
            }
            // With filters: the cursor continues within them.
            var filtered: [TallyRow] = []
            var uri = "/api/v1/tallies?device=dev-3&from=\(t0 + hour)&limit=1"
            while true {
                let next: String? = try await client.execute(uri: uri, method: .get) { response in
                    filtered += try JSONDecoder().decode([TallyRow].self, from: Data(buffer: response.body))
                    return response.headers[Self.nextCursor]
                }
                guard let next else { break }
                uri = "/api/v1/tallies?device=dev-3&from=\(t0 + hour)&limit=1&cursor=\(next)"
            }
            #expect(filtered == allTallies.filter { $0.serial == "dev-3" && $0.epochStart >= t0 + hour })
            #expect(filtered.count == 4)

            let epochPages = try await pages(client, "/api/v1/epochs", limit: 2, as: EpochSummary.self)
            #expect(epochPages.map(\.count) == [2, 1])
            #expect(epochPages.flatMap { $0 }.map(\.start) == [t0, t0 + hour, t0 + 2 * hour])

            try await client.execute(uri: "/api/v1/tallies?limit=10001", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("limit \\\"10001\\\" must be a whole number from 1 to 10000"))
            }
        }
        let page = try await store.tallies(TallyQuery(serial: "dev-1"), page: PageRequest(limit: 6))
        #expect(page.items.count == 6 && !page.more)
    }
}
