@testable import Aggregator
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

@Suite struct HTTPServerTests {
    let operations = RecordingOperations()

    func server(model: MemoryReadModel = .sample, token: String? = "s3cret", metrics: AggregatorMetrics = AggregatorMetrics()) -> AggregatorHTTPServer {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: model, operations: operations, operatorToken: token,
                                    metrics: metrics, logger: logger)
    }

    @Test func healthAndDevices() async throws {
        try await server().application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok\n")
            }
            try await client.execute(uri: "/api/v1/devices", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                let devices = try JSONDecoder().decode([DeviceSummary].self, from: Data(buffer: response.body))
                #expect(devices == MemoryReadModel.sample.deviceList)
            }
            try await client.execute(uri: "/api/v1/devices/fp-0001", method: .get) { response in
                let device = try JSONDecoder().decode(DeviceSummary.self, from: Data(buffer: response.body))
                #expect(device.accepted == 1200 && device.rejected == ["bad_signature": 3])
            }
            try await client.execute(uri: "/api/v1/devices/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func talliesAsJSONAndCSVWithFilters() async throws {
        let model = MemoryReadModel.sample
        try await server(model: model).application().test(.router) { client in
            try await client.execute(uri: "/api/v1/tallies?device=fp-0001&from=1700000000000&to=1700003600000", method: .get) { response in
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                #expect(object?.first?["mean"] as? Double == 292.25)
                #expect(object?.count == 2)
            }
            try await client.execute(uri: "/api/v1/tallies?format=csv", method: .get) { response in
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                let expected = "device,metric,unit,epoch_start_ms,epoch_end_ms,count,min,max,sum,mean\r\n"
                    + "fp-0001,air/temperature,K,1700000000000,1700003600000,4,290,294.5,1169,292.25\r\n"
                    + "fp-0001,\"air,odd \"\"name\"\"\",1,1700000000000,1700003600000,2,0.25,0.75,1,0.5\r\n"
                #expect(String(buffer: response.body) == expected)
            }
            // For a person's spreadsheet: °C with two decimals (the sum counts
            // the offset once per value: 1169 K − 4 × 273.15 = 76.40 °C).
            try await client.execute(uri: "/api/v1/tallies?format=csv&units=display", method: .get) { response in
                let expected = "device,metric,unit,epoch_start_ms,epoch_end_ms,count,min,max,sum,mean\r\n"
                    + "fp-0001,air/temperature,°C,1700000000000,1700003600000,4,16.85,21.35,76.40,19.10\r\n"
                    + "fp-0001,\"air,odd \"\"name\"\"\",,1700000000000,1700003600000,2,0.25,0.75,1,0.5\r\n"
                #expect(String(buffer: response.body) == expected)
            }
            try await client.execute(uri: "/api/v1/tallies?format=csv&units=imperial", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("display"))
            }
            try await client.execute(uri: "/api/v1/tallies", method: .get, headers: [.accept: "text/csv"]) { response in
                #expect(String(buffer: response.body).hasPrefix("device,metric"))
            }
            try await client.execute(uri: "/api/v1/tallies?from=yesterday", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(model.queries.all.first == TallyQuery(serial: "fp-0001", from: 1_700_000_000_000, to: 1_700_003_600_000))
    }

    @Test func epochsAndProofs() async throws {
        try await server().application().test(.router) { client in
            try await client.execute(uri: "/api/v1/epochs/2023-11-14T22", method: .get) { response in
                let epoch = try JSONDecoder().decode(EpochSummary.self, from: Data(buffer: response.body))
                #expect(epoch.messageCount == 1200)
            }
            try await client.execute(uri: "/api/v1/epochs/2023-11-14T22/proofs/fp-0001/7", method: .get) { response in
                #expect(response.headers[.contentType] == "application/cbor")
                #expect(Array(buffer: response.body) == [0xA2, 0x01, 0x02])
            }
            try await client.execute(uri: "/api/v1/epochs/2023-11-14T22/proofs/fp-0001/8", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/epochs/2023-11-14T22/proofs/fp-0001/x", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func operatorEndpointsNeedTheBearerToken() async throws {
        try await server().application().test(.router) { client in
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009", method: .post) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009", method: .post, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009&expires=2h", method: .post, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .created)
                let body = try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))
                #expect(body["pin"] == "12345678" && body["serial"] == "fp-0009")
                #expect(body["aggregatorFingerprint"] == "3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a", "the technician gets it with the PIN")
            }
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0009&expires=soon", method: .post, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/devices/fp-0001/revoke", method: .post, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/devices/fp-0404/revoke", method: .post, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .notFound)
            }
        }
        #expect(operations.enrolled.count == 1 && operations.enrolled.first?.1 == .seconds(7200))
        try await server(token: nil).application().test(.router) { client in
            try await client.execute(uri: "/api/v1/enrollments?serial=x", method: .post, headers: [.authorization: "Bearer "]) { response in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test func metricsExposeEveryRejectionReason() async throws {
        let metrics = AggregatorMetrics()
        metrics.accepted.increment(by: 5)
        metrics.rejected(reason: "bad_signature")
        metrics.verifyLatency.recordNanoseconds(150_000)
        try await server(metrics: metrics).application().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("fieldproof_messages_accepted_total 5"))
                #expect(text.contains("fieldproof_messages_rejected_total{reason=\"bad_signature\"} 1"))
                for reason in AggregatorMetrics.rejectionReasons {
                    #expect(text.contains("fieldproof_messages_rejected_total{reason=\"\(reason)\"}"))
                }
                #expect(text.contains("fieldproof_verify_duration_seconds_bucket"))
            }
        }
    }

    @Test func dashboardListsDevicesAndEscapesText() async throws {
        try await server().application().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(html.contains("<code>fp-0001</code>"))
                #expect(html.contains("fp-&lt;b&gt;"), "serials are escaped")
                #expect(!html.contains("fp-<b>"))
                #expect(html.contains("<polyline"), "latest readings are plotted")
                #expect(html.contains("title=\"294.65 K\">21.50 °C</td>"), "in °C, the wire's SI value on hover")
                #expect(html.components(separatedBy: "class=\"accepted\"").count == 25, "one bar per hour")
                #expect(!html.contains("http://") && !html.contains("https://"), "nothing from a CDN")
            }
        }
    }

    @Test func civilDates() {
        #expect(DashboardPage.time(0) == "1970-01-01 00:00:00 UTC")
        #expect(DashboardPage.time(1_700_000_000_000) == "2023-11-14 22:13:20 UTC")
        #expect(DashboardPage.time(951_782_400_000) == "2000-02-29 00:00:00 UTC")
    }
}
