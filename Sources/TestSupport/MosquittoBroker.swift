import Foundation
import MQTT
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// A real `mosquitto` (Debian's /usr/sbin/mosquitto) for one test: its own
/// config in a temporary directory, on 127.0.0.1 and a free port, stopped by
/// its PID. It can be stopped and started again on the same port.
public final class MosquittoBroker: @unchecked Sendable {
    public static let executable = "/usr/sbin/mosquitto"

    public let host = "127.0.0.1"
    /// Chosen once in `init` (another one only when the first was taken
    /// between choosing and binding), then kept across restarts.
    public private(set) var port: Int
    /// The temporary directory holding config, persistence and log.
    public let directory: URL
    public let configFile: URL
    public var logFile: URL { directory.appendingPathComponent("mosquitto.log") }

    private let process = Mutex<ChildProcess?>(nil)

    /// Writes `configuration` (with `{PORT}` and `{DIR}` replaced) and starts
    /// the broker. Without a configuration a plain anonymous listener is used.
    public init(configuration: String? = nil, port: Int? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            throw TestSupportError.missingTool("\(Self.executable) not found: install Debian's mosquitto package (scripts/test does)")
        }
        self.port = try port ?? LoopbackNetwork.freePort()
        self.directory = try TemporaryDirectory.make(prefix: "mosquitto")
        self.configFile = directory.appendingPathComponent("mosquitto.conf")
        // A free port can be taken by a test running alongside between our
        // choosing it and mosquitto binding it ("Address already in use",
        // seen in CI): then choose again, unless the caller fixed the port.
        for attempt in 1...5 {
            try writeConfiguration(configuration)
            do {
                try start()
                return
            } catch TestSupportError.brokerDidNotStart(let reason) where port == nil && attempt < 5 {
                _ = reason
                self.port = try LoopbackNetwork.freePort()
            }
        }
    }

    private func writeConfiguration(_ configuration: String?) throws {
        var text = configuration ?? Self.plainConfiguration
        text = text.replacingOccurrences(of: "{PORT}", with: String(self.port))
        text = text.replacingOccurrences(of: "{DIR}", with: directory.path)
        text += "\nlog_dest file \(logFile.path)\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        if geteuid() == 0 {
            // As root, mosquitto would switch to the "mosquitto" user, which
            // cannot write our temporary directory.
            text += "user root\n"
        }
        try text.write(to: configFile, atomically: true, encoding: .utf8)
    }

    /// Listener on the chosen port, anonymous clients, no persistence.
    public static let plainConfiguration = """
        listener {PORT} 127.0.0.1
        allow_anonymous true
        """

    /// The same with persistence in the temporary directory.
    public static let persistentConfiguration = """
        listener {PORT} 127.0.0.1
        allow_anonymous true
        persistence true
        persistence_location {DIR}/
        autosave_interval 1
        max_queued_messages 100000
        """

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    public var pid: Int32? {
        process.withLock { $0?.isRunning == true ? $0?.pid : nil }
    }

    public var isRunning: Bool { pid != nil }

    /// Starts the broker (again, on the same port) and waits until it accepts.
    public func start() throws {
        let process = try ChildProcess(Self.executable, ["-c", configFile.path])
        self.process.withLock { $0 = process }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if !process.isRunning {
                throw TestSupportError.brokerDidNotStart("exited with status \(process.exitCode ?? -1); log: \(log())")
            }
            if LoopbackNetwork.accepts(port: port) { return }
            usleep(10_000)
        }
        stop()
        throw TestSupportError.brokerDidNotStart("port \(port) not accepting after 15 s; log: \(log())")
    }

    /// Stops the broker by its PID: SIGTERM (mosquitto saves its persistence
    /// file), then SIGKILL if it has not exited within 5 s.
    public func stop() {
        signal(SIGTERM, escalateAfter: 5)
    }

    /// Kills the broker with SIGKILL: no persistence save, like a power cut.
    public func kill() {
        signal(SIGKILL, escalateAfter: 5)
    }

    public func restart() throws {
        stop()
        try start()
    }

    private func signal(_ signal: Int32, escalateAfter seconds: Double) {
        guard let process = process.withLock({ $0 }) else { return }
        process.terminate(signal: signal, timeout: seconds)
        self.process.withLock { $0 = nil }
    }

    /// The broker's log so far (for failure messages).
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }
}

/// A fresh directory under the system temporary directory.
public enum TemporaryDirectory {
    public static func make(prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fieldproof-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension MosquittoBroker {
    /// What a fresh subscriber to `topic` is given, or nil. A marker published
    /// after the subscription ends the wait: a retained message is sent on
    /// subscribing, before anything published later.
    public func retainedMessage(topic: String) async throws -> [UInt8]? {
        let reader = try MQTTClient(configuration: MQTTConfiguration(host: host, port: port, clientID: "reader-\(UUID().uuidString.prefix(6))"))
        try await reader.connect()
        defer { reader.close() }
        try await reader.subscribe(topic, qos: .atLeastOnce)
        let marker = "marker/\(UUID().uuidString.prefix(6))"
        try await reader.subscribe(marker, qos: .atLeastOnce)
        try await reader.publish(topic: marker, payload: [], qos: .atLeastOnce)
        var retained: [UInt8]?
        for await message in reader.messages {
            if message.topic == topic { retained = message.payload }
            if message.topic == marker { break }
        }
        return retained
    }
}
