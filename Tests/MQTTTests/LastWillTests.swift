import Foundation
import MQTT
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension MQTTSuite {
    @Suite struct LastWill {
        /// Starts `fieldproof-bench hold-connection` (our wrapper in a child
        /// process, connected with a last will) and waits for "connected".
        private func startHolder(_ broker: MosquittoBroker, willTopic: String) async throws -> ChildProcess {
            let binary = try #require(ProjectPaths.product("fieldproof-bench"),
                                      "fieldproof-bench must be built next to the tests (swift build --build-tests)")
            let output = broker.directory.appendingPathComponent("holder.log").path
            let process = try ChildProcess(binary.path, ["hold-connection", "--port", String(broker.port), "--will-topic", willTopic,
                                                         "--will-payload", "offline", "--client-id", "holder-\(UUID().uuidString.prefix(6))"],
                                           outputFile: output)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, process.isRunning,
                  !((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("connected") {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("connected"))
            return process
        }

        @Test func willIsPublishedWhenTheClientDiesWithoutDisconnect() async throws {
            let broker = try MosquittoBroker()
            let watcher = try await connectedClient(broker, "watcher")
            let inbox = Collector(watcher)
            try await watcher.subscribe("fieldproof/v1/+/status")

            let holder = try await startHolder(broker, willTopic: "fieldproof/v1/dev-9/status")
            #expect(try await flush(from: watcher, to: watcher, inbox: inbox))
            #expect(inbox.withoutMarkers.isEmpty, "no will while the holder lives")
            #expect(await holder.stop(signal: SIGKILL))

            #expect(await inbox.wait(for: 2, seconds: 10), "the marker, then the will")
            #expect(inbox.withoutMarkers.first?.topic == "fieldproof/v1/dev-9/status")
            #expect(inbox.withoutMarkers.first?.payload == Array("offline".utf8))
        }

        @Test func noWillAfterACleanClose() async throws {
            let broker = try MosquittoBroker()
            let watcher = try await connectedClient(broker, "watcher")
            let inbox = Collector(watcher)
            try await watcher.subscribe("wills/#")
            let leaver = try await connectedClient(broker, "leaver") {
                $0.will = MQTTWill(topic: "wills/leaver", payload: Array("offline".utf8))
            }
            leaver.close()
            // A window, not a settle: nothing observable says the broker has
            // handled the close, and a will would come only then.
            try await Task.sleep(for: .milliseconds(500))
            #expect(inbox.count == 0)
        }
    }
}
