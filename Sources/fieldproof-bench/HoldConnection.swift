import ArgumentParser
import Foundation
import MQTT

/// A child process for tests: connects with a last will, says "connected"
/// on stdout, and then holds the connection until it is killed.
struct HoldConnection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold-connection",
        abstract: "Test helper: hold an MQTT connection with a last will until killed.",
        shouldDisplay: false
    )

    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option var clientID = "will-holder"
    @Option var willTopic: String
    @Option var willPayload = "offline"
    @Option var keepAlive = 5

    func run() async throws {
        var config = MQTTConfiguration(host: host, port: port, clientID: clientID)
        config.keepAlive = keepAlive
        config.will = MQTTWill(topic: willTopic, payload: Array(willPayload.utf8), qos: .atLeastOnce, retain: false)
        let client = try MQTTClient(configuration: config)
        try await client.connect()
        FileHandle.standardOutput.write(Data("connected\n".utf8))
        while true {
            try await Task.sleep(for: .seconds(3600))
        }
    }
}
