@testable import Aggregator
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

/// Opens the dashboard in a real browser (Debian's headless Chromium) and
/// checks what it rendered; the screenshot stays in the test's temp dir.
@Suite struct DashboardBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: chromium != nil || ProcessInfo.processInfo.environment["CI"] != nil, "chromium is not installed (scripts/test installs it)"))
    func theDashboardRendersTheDevicesInChromium() async throws {
        let chromium = try #require(Self.chromium, "chromium must be installed in CI")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: MemoryReadModel.sample, operations: nil,
                                          operatorToken: nil, metrics: AggregatorMetrics(), logger: logger)
        let directory = try TemporaryDirectory.make(prefix: "dashboard")
        let screenshot = directory.appendingPathComponent("dashboard.png")
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            // Chromium is waited for on a Dispatch thread: the server it talks
            // to runs on the same 2 cooperative threads a blocking wait would hold.
            let url = "http://127.0.0.1:\(port)/"
            let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                          "--user-data-dir=\(directory.appendingPathComponent("profile").path)", "--window-size=1280,900"]
            let dom = try await ProcessRunner.runDetached(chromium, common + ["--dump-dom", url])
            #expect(dom.status == 0, "\(dom.output.suffix(500))")
            #expect(dom.output.contains("<code>fp-0001</code>"), "the rendered page lists the devices")
            #expect(dom.output.contains("fp-&lt;b&gt;"))
            let shot = try await ProcessRunner.runDetached(chromium, common + ["--screenshot=\(screenshot.path)", url])
            #expect(shot.status == 0, "\(shot.output.suffix(500))")
        }
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG was written")
        #expect(png.count > 10_000, "the screenshot has content")
        print("dashboard screenshot: \(screenshot.path)")
    }
}
