import Foundation
@testable import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    @Suite struct Lifecycle {
        /// Which of these kernel thread ids still run in this process as
        /// our network thread (other tests may run clients meanwhile, so
        /// count only the threads of this test's clients).
        private func running(_ threads: [pid_t]) -> Int {
            threads.filter { thread in
                let name = FileHandle(forReadingAtPath: "/proc/self/task/\(thread)/comm").map {
                    String(decoding: $0.readDataToEndOfFile(), as: UTF8.self)
                } ?? ""
                return name.hasPrefix("fp-mqtt")
            }.count
        }

        /// This process's TCP sockets connected to `port` (from /proc/net/tcp
        /// matched against the inodes behind /proc/self/fd).
        private func socketsConnected(to port: Int) -> Int {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            let inodes = Set(fds.compactMap { fd -> String? in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                      target.hasPrefix("socket:[") else { return nil }
                return String(target.dropFirst(8).dropLast())
            })
            // procfs files report size 0: read to the end, not by the stat size.
            let table = FileHandle(forReadingAtPath: "/proc/net/tcp").map {
                String(decoding: $0.readDataToEndOfFile(), as: UTF8.self)
            } ?? ""
            let hex = String(port, radix: 16, uppercase: true)
            let hexPort = ":" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return table.split(separator: "\n").dropFirst().filter { line in
                let columns = line.split(separator: " ")
                guard columns.count > 9 else { return false }
                return columns[2].hasSuffix(hexPort) && inodes.contains(String(columns[9]))
            }.count
        }

        @Test func closeAndDeinitLeaveNoThreadOrSocketBehind() async throws {
            let broker = try MosquittoBroker()
            var threads: [pid_t] = []
            do {
                var clients: [MQTTClient] = []
                for index in 0..<10 {
                    clients.append(try await connectedClient(broker, "life-\(index)"))
                }
                threads = clients.compactMap(\.networkThreadID)
                #expect(threads.count == 10)
                #expect(running(threads) == 10)
                #expect(socketsConnected(to: broker.port) == 10)
                clients[0].close()
                #expect(running(threads) == 9)
                #expect(clients[0].networkThreadID == nil)
                clients.removeAll() // the rest go through deinit
            }
            #expect(running(threads) == 0)
            #expect(socketsConnected(to: broker.port) == 0)
        }

        @Test func aFailedConnectLeavesNoThreadBehind() async throws {
            let port = try LoopbackNetwork.freePort()
            for _ in 0..<5 {
                let client = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "fail"))
                await #expect(throws: MQTTError.self) { try await client.connect() }
                #expect(client.networkThreadID == nil)
            }
        }

        @Test func aRefusedTLSConnectLeavesNoThreadBehind() async throws {
            // The TCP connect succeeds and the failure comes later, on the
            // network thread: that thread must end too.
            let directory = try TemporaryDirectory.make(prefix: "tls-thread")
            let authority = try await CertificateAuthority(name: "a", in: directory)
            let stranger = try await CertificateAuthority(name: "b", in: directory)
            let (certificate, key) = try await authority.issueServerCertificate()
            let broker = try MosquittoBroker(configuration: """
                listener {PORT} 127.0.0.1
                allow_anonymous true
                cafile \(authority.certificateFile.path)
                certfile \(certificate.path)
                keyfile \(key.path)
                """)
            let client = try client(broker, "tls-thread") { $0.tls = MQTTTLSConfiguration(caFile: stranger.certificateFile.path) }
            await #expect(throws: MQTTError.self) { try await client.connect() }
            #expect(client.networkThreadID == nil)
        }
    }
}
