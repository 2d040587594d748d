@testable import Aggregator
import ConfigFile
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// CSV injection, the operator token's comparison, durations and paging of
/// the HTTP API (against `MemoryReadModel`; the stores' paging is tested in
/// AggregatorStoreTests/PagingTests).
@Suite struct HTTPHardeningTests {
    let operations = RecordingOperations()

    func server(model: MemoryReadModel = .sample, token: String? = "0123456789abcdef") -> AggregatorHTTPServer {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: model, operations: operations, operatorToken: token,
                                    metrics: AggregatorMetrics(), logger: logger)
    }

    func row(serial: String = "fp-0001", metric: String = "air/temperature", unit: String = "K", start: Int64 = 0, minimum: Double = 1) -> TallyRow {
        TallyRow(serial: serial, metric: metric, unit: unit, epochStart: start, epochEnd: start + 3_600_000, count: 2, minimum: minimum,
                 maximum: 3, sum: 4)
    }

    // MARK: CSV

    @Test(arguments: [
        ("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""), ("+1", "\"'+1\""), ("-1+2", "\"'-1+2\""),
        ("@SUM(A1)", "\"'@SUM(A1)\""), ("\tx", "\"'\tx\""), ("\rx", "\"'\rx\""),
    ])
    func formulaCellsAreNeutralised(text: String, cell: String) {
        for (index, csv) in [TallyCSV.render([row(serial: text)]), TallyCSV.render([row(metric: text)]), TallyCSV.render([row(unit: text)])]
            .enumerated() {
            let line = csv.split(separator: "\r\n", omittingEmptySubsequences: false)[1]
            let expectedFields = [index == 0 ? cell : "fp-0001", index == 1 ? cell : "air/temperature", index == 2 ? cell : "K"]
            #expect(line.hasPrefix(expectedFields.joined(separator: ",") + ","), "field \(index) of \(csv.debugDescription)")
        }
    }

    @Test func numbersStayNumbersAndPlainTextStaysPlain() {
        let csv = TallyCSV.render([row(metric: "a-b", unit: "K", start: -3_600_000, minimum: -1.5)])
        #expect(csv.hasSuffix("\r\nfp-0001,a-b,K,-3600000,0,2,-1.5,3,4,2\r\n"))
        #expect(TallyCSV.quote("line\r\nbreak") == "\"line\r\nbreak\"")
        #expect(TallyCSV.quote("x=1") == "x=1")
    }

    // MARK: Operator token

    @Test func constantTimeEqualsComparesWholeInputs() {
        #expect(ConstantTime.equals("Bearer 0123456789abcdef", "Bearer 0123456789abcdef"))
        #expect(!ConstantTime.equals("Bearer 0123456789abcdef", "Bearer 0123456789abcdeF"))
        #expect(!ConstantTime.equals("Bearer 0123456789abcde", "Bearer 0123456789abcdef"))
        #expect(!ConstantTime.equals("Bearer 0123456789abcdef0", "Bearer 0123456789abcdef"))
        #expect(!ConstantTime.equals("", "x") && ConstantTime.equals("", ""))
        // A prefix padded with NUL must not equal the shorter input.
        #expect(!ConstantTime.equals([0x61, 0x00], [0x61]))
    }

    @Test func onlyTheExactTokenIsAccepted() async throws {
        try await server().application().test(.router) { client in
            for header in ["Bearer 0123456789abcdef"] {
                try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009", method: .post, headers: [.authorization: header]) { response in
                    #expect(response.status == .created)
                }
            }
            for header in ["Bearer 0123456789abcdeX", "Bearer 0123456789abcde", "Bearer 0123456789abcdef0", "Bearer ", "0123456789abcdef",
                           "bearer 0123456789abcdef", "Bearer 0123456789abcdef0123456789abcdef", "Bearer 0123456789abcdef, Bearer x"] {
                try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009", method: .post, headers: [.authorization: header]) { response in
                    #expect(response.status == .unauthorized, "\(header)")
                }
            }
        }
        #expect(operations.enrolled.count == 1)
    }

    // MARK: Durations

    @Test func expiresOverflowIsABadRequest() async throws {
        try await server().application().test(.router) { client in
            for (expires, message) in [("106751991167300d", "106751991167300d is longer than the maximum of 3650d"),
                                       ("9223372036854775807ms", "is longer than the maximum"), ("0s", "shorter than the minimum"),
                                       ("-1h", "negative"), ("soon", "is not a duration")] {
                try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009&expires=\(expires)", method: .post,
                                         headers: [.authorization: "Bearer 0123456789abcdef"]) { response in
                    #expect(response.status == .badRequest, "\(expires)")
                    #expect(String(buffer: response.body).contains(message), "\(String(buffer: response.body))")
                }
            }
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009&expires=7d", method: .post,
                                     headers: [.authorization: "Bearer 0123456789abcdef"]) { response in
                #expect(response.status == .created)
            }
        }
        #expect(operations.enrolled.map(\.1) == [.seconds(7 * 86_400)])
    }

    @Test func aggregatorConfigTakesDaysAndRefusesOverflow() throws {
        let config = try AggregatorConfiguration.parse("pairing:\n  default_expiry: 7d\n", file: "aggregator.yaml")
        #expect(config.pairing.defaultExpiry == .seconds(7 * 86_400))
        let error = #expect(throws: ConfigError.self) {
            try AggregatorConfiguration.parse("pairing:\n  default_expiry: 106751991167300d\n", file: "aggregator.yaml")
        }
        #expect(error?.description
                == "aggregator.yaml:2:19: pairing.default_expiry: 106751991167300d is longer than the maximum of 3650d (ten years); for example: default_expiry: 24h")
    }

    // MARK: Paging

    /// Its own model (`sample` shares one query log with HTTPServerTests).
    static let manyRows = MemoryReadModel(
        deviceList: (0..<7).map { DeviceSummary(serial: "fp-\($0)") },
        tallyRows: (0..<25).map { index in
            TallyRow(serial: "fp-\(index % 3)", metric: "m\(index % 2)", unit: "K", epochStart: Int64(index) * 3_600_000,
                     epochEnd: Int64(index + 1) * 3_600_000, count: 1, minimum: 1, maximum: 1, sum: 1)
        },
        buckets: [], readings: [], epochList: MemoryReadModel.sample.epochList, proofs: [:])

    @Test func pagingThroughTalliesGivesEveryRowOnce() async throws {
        let model = Self.manyRows
        try await server(model: model).application().test(.router) { client in
            for format in ["", "&format=csv"] {
                var seen: [String] = []
                var uri = "/api/v1/tallies?limit=4\(format)"
                var pages = 0
                while true {
                    let next: String? = try await client.execute(uri: uri, method: .get) { response in
                        #expect(response.status == .ok)
                        let body = String(buffer: response.body)
                        if format.isEmpty {
                            let rows = try JSONDecoder().decode([TallyRow].self, from: Data(buffer: response.body))
                            #expect(rows.count <= 4)
                            seen += rows.map { "\($0.serial),\($0.metric),\($0.epochStart)" }
                        } else {
                            let lines = body.split(separator: "\r\n").dropFirst()
                            seen += lines.map { $0.split(separator: ",").prefix(4).enumerated().filter { $0.offset != 2 }.map { String($0.element) }
                                .joined(separator: ",") }
                        }
                        let cursor = response.headers[HTTPField.Name("X-Next-Cursor")!]
                        if let cursor {
                            #expect(response.headers[HTTPField.Name("Link")!] == "</api/v1/tallies?limit=4\(format)&cursor=\(cursor)>; rel=\"next\"")
                        }
                        return cursor
                    }
                    pages += 1
                    guard let next else { break }
                    uri = "/api/v1/tallies?limit=4\(format)&cursor=\(next)"
                }
                let expected = model.tallyRows.map { "\($0.serial),\($0.metric),\($0.epochStart)" }
                #expect(seen == expected)
                #expect(pages == 7)
            }
        }
    }

    @Test func devicesAndEpochsArePagedAndBadLimitsRefused() async throws {
        try await server(model: Self.manyRows).application().test(.router) { client in
            let cursor: String? = try await client.execute(uri: "/api/v1/devices?limit=5", method: .get) { response in
                let devices = try JSONDecoder().decode([DeviceSummary].self, from: Data(buffer: response.body))
                #expect(devices.map(\.serial) == ["fp-0", "fp-1", "fp-2", "fp-3", "fp-4"])
                return response.headers[HTTPField.Name("X-Next-Cursor")!]
            }
            let next = try #require(cursor)
            try await client.execute(uri: "/api/v1/devices?limit=5&cursor=\(next)", method: .get) { response in
                let devices = try JSONDecoder().decode([DeviceSummary].self, from: Data(buffer: response.body))
                #expect(devices.map(\.serial) == ["fp-5", "fp-6"])
                #expect(response.headers[HTTPField.Name("X-Next-Cursor")!] == nil)
            }
            try await client.execute(uri: "/api/v1/devices?limit=7", method: .get) { response in
                #expect(response.headers[HTTPField.Name("X-Next-Cursor")!] == nil, "a full last page says nothing follows")
            }
            try await client.execute(uri: "/api/v1/epochs?limit=10000", method: .get) { response in
                let epochs = try JSONDecoder().decode([EpochSummary].self, from: Data(buffer: response.body))
                #expect(epochs.count == 1)
            }
            for uri in ["/api/v1/devices?limit=10001", "/api/v1/tallies?limit=0", "/api/v1/epochs?limit=-1", "/api/v1/tallies?limit=ten",
                        "/api/v1/tallies?format=csv&limit=99999999999999999999"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(String(buffer: response.body).contains("limit"), "\(uri)")
                    #expect(String(buffer: response.body).contains("1 to 10000"), "\(uri)")
                }
            }
            // A cursor of another list, or not one at all.
            for uri in ["/api/v1/tallies?cursor=\(next)", "/api/v1/devices?cursor=%%%", "/api/v1/epochs?cursor=\(next)",
                        "/api/v1/devices?cursor=bm90IGpzb24"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(String(buffer: response.body).contains("cursor"), "\(uri)")
                }
            }
        }
    }

    @Test func cursorsRoundTrip() {
        let key = TallyKey(serial: "fp-1", metric: "a/b \"c\"", epochStart: -5)
        #expect(Paging.decode(Paging.encode(key), as: TallyKey.self) == key)
        #expect(Paging.decode(Paging.encode("fp-9"), as: String.self) == "fp-9")
        #expect(Paging.decode(Paging.encode(Int64.max), as: Int64.self) == Int64.max)
        #expect(!Paging.encode(key).contains { "+/=".contains($0) })
    }
}
