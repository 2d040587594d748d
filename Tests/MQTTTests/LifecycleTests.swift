import Foundation
import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    @Suite struct Lifecycle {
        /// Threads named like our network thread, in this process.
        private func networkThreads() -> Int {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.filter { task in
                let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
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
            let before = networkThreads()
            do {
                var clients: [MQTTClient] = []
                for index in 0..<10 {
                    clients.append(try await connectedClient(broker, "life-\(index)"))
                }
                #expect(networkThreads() == before + 10)
                #expect(socketsConnected(to: broker.port) == 10)
                clients[0].close()
                #expect(networkThreads() == before + 9)
                clients.removeAll() // the rest go through deinit
            }
            #expect(networkThreads() == before)
            #expect(socketsConnected(to: broker.port) == 0)
        }

        @Test func aFailedConnectLeavesNoThreadBehind() async throws {
            let before = networkThreads()
            let port = try LoopbackNetwork.freePort()
            for _ in 0..<5 {
                let client = try MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "fail"))
                await #expect(throws: MQTTError.self) { try await client.connect() }
            }
            #expect(networkThreads() == before)
        }
    }
}
