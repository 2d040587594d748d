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
}
