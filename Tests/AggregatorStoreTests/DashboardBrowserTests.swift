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

/// Opens the dashboard of a real SQLite store, filled through the same
/// commits the pipeline makes, in a real browser (Debian's headless
/// Chromium) and checks what it rendered; the screenshot stays in the
/// test's temp dir.
@Suite struct DashboardBrowserTests {
    /// Three devices' signed messages, a redelivery and a rejection, committed to a new
    /// store. One serial carries markup, which the page must escape (a
    /// device could never send it: the message decoder refuses such a
    /// serial, so that device's readings are not listed).
    static func filledStore(in directory: URL) async throws -> SQLiteStore {
        let store = try SQLiteStore(path: directory.appendingPathComponent("tallies.sqlite").path,
                                    calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let key = Curve25519.Signing.PrivateKey()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for serial in ["fp-0001", "fp-0002", "fp-<b>"] {
            try await store.bindKey(serial: serial, publicKey: key.publicKey, at: now - 60_000, logKey: TestAggregator.logKey)
            for sequence in 1...12 as ClosedRange<UInt64> {
                let time = now - 60_000 + Int64(sequence) * 5000
                let telemetry = Telemetry(serial: serial, sequence: sequence, floor: 0, timestamp: UInt64(time), clockSynchronised: true,
                                          bootID: [UInt8](repeating: 3, count: 16), millisecondsSinceBoot: sequence * 5000,
                                          readings: [.init(sensor: "air", quantity: "temperature", value: 290 + Double(sequence % 4), unit: "K")],
                                          statuses: [])
                let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
                let message = StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)), receivedAt: time + 50)
                _ = try await store.commit(message)
                if serial == "fp-0002" && sequence == 12 {
                    _ = try await store.commit(message) // sent again for want of an ack: a redelivery
                }
            }
        }
        try await store.recordRejection(serial: "fp-0001", reason: "bad_signature")
        return store
    }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: chromium != nil || ProcessInfo.processInfo.environment["CI"] != nil, "chromium is not installed (scripts/test installs it)"))
    func theDashboardRendersTheDevicesInChromium() async throws {
        let chromium = try #require(Self.chromium, "chromium must be installed in CI")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let directory = try TemporaryDirectory.make(prefix: "dashboard")
        let store = try await Self.filledStore(in: directory)
        let server = AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: store, operations: nil,
                                          operatorToken: nil, metrics: AggregatorMetrics(), logger: logger)
        let screenshot = directory.appendingPathComponent("dashboard.png")
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            // Chromium is waited for on a Dispatch thread: the server it talks
            // to runs on the same 2 cooperative threads a blocking wait would hold.
            let url = "http://127.0.0.1:\(port)/"
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                          "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--window-size=1280,900"]
            let dom = try await ProcessRunner.run(chromium, common + ["--dump-dom", url])
            #expect(dom.status == 0, "\(dom.output.suffix(500))")
            #expect(dom.output.contains("<code>fp-0001</code>"), "the rendered page lists the devices")
            #expect(dom.output.contains("fp-&lt;b&gt;"), "markup in a serial is shown, not run")
            #expect(dom.output.contains("3 device(s) · 36 accepted · 1 redelivered · 1 rejected"), "the totals come from the store")
            #expect(dom.output.contains("air/temperature"), "latest readings are listed")
            #expect(dom.output.components(separatedBy: "<polyline").count - 1 == 2, "one plotted line per device and metric")
            #expect(dom.output.contains("<rect class=\"rejected\""), "the activity chart has the rejection")
            let shot = try await ProcessRunner.run(chromium, common + ["--screenshot=\(screenshot.path)", url])
            #expect(shot.status == 0, "\(shot.output.suffix(500))")
        }
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG was written")
        #expect(png.count > 10_000, "the screenshot has content")
        print("dashboard screenshot: \(screenshot.path)")
    }
}
