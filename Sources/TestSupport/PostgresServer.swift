import Foundation

/// A real PostgreSQL server for a test: Debian's `postgresql` binaries, a
/// fresh cluster in a temporary directory, listening on a free loopback
/// port, stopped by PID. PostgreSQL refuses to run as root, so as root the
/// cluster belongs to the `postgres` system user and `initdb` and
/// `postgres` run as that user (through `setpriv`, which execs: the PID
/// we hold is the server's).
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }
    public var logFile: URL { directory.appendingPathComponent("postgres.log") }
    private let process: ChildProcess
    /// The postmaster's PID (its backends are its children).
    public var pid: Int32 { process.pid }

    /// The newest installed server's binaries (`/usr/lib/postgresql/<version>/bin`).
    public static func binaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw TestSupportError.missingTool("no PostgreSQL server in /usr/lib/postgresql: install Debian's postgresql package (scripts/test does)")
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    public init() async throws {
        let bin = try Self.binaries()
        // Not TemporaryDirectory (mode 0700, root's): the server's user must reach it.
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fieldproof-postgres-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let data = directory.appendingPathComponent("data").path
        let asRoot = geteuid() == 0
        if asRoot { try await ProcessRunner.check("/usr/bin/chown", ["postgres:postgres", directory.path]) }
        func command(_ tool: String, _ arguments: [String]) -> (String, [String]) {
            let path = bin.appendingPathComponent(tool).path
            return asRoot ? ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--reset-env", path] + arguments)
                          : (path, arguments)
        }
        let (initdb, initArguments) = command("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"])
        try await ProcessRunner.check(initdb, initArguments)
        let log = directory.appendingPathComponent("postgres.log")
        // The free port is chosen before the server binds it, and a test
        // running alongside can take it meanwhile: then our server exits
        // ("Address already in use") while the port accepts — someone
        // else's server, which its test later stops under our clients. So
        // the port counts only once our own process is seen listening, and
        // a lost race chooses again.
        var attempt = 1
        while true {
            let port = try LoopbackNetwork.freePort()
            let (postgres, arguments) = command("postgres", [
                "-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(directory.path)",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100",
            ])
            let process = try ChildProcess(postgres, arguments, outputFile: log.path)
            let deadline = Date().addingTimeInterval(30)
            var listening = false
            while process.isRunning, Date() < deadline {
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if text.contains("ready to accept connections"), LoopbackNetwork.accepts(port: port), process.isRunning {
                    listening = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            if listening {
                self.port = port
                self.process = process
                return
            }
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            _ = process.terminate(signal: SIGKILL)
            guard text.contains("Address already in use"), attempt < 5 else {
                throw TestSupportError.commandFailed("PostgreSQL did not start on port \(port): \(text)")
            }
            attempt += 1
        }
    }

    /// `init`, at most two at once: `initdb` is a CPU-bound second each, and
    /// a full test run asks for about twenty servers at its start, on two
    /// cores shared with every timing-sensitive test.
    public static func started() async throws -> PostgresServer {
        await startGate.enter()
        defer { Task { await startGate.leave() } }
        return try await PostgresServer()
    }

    private static let startGate = StartGate(limit: 2)


    /// Fast shutdown (SIGINT: clients are disconnected), then the files go.
    public func stop() {
        _ = process.terminate(signal: SIGINT, timeout: 20)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A counting gate for async callers (waiters are resumed in order).
private actor StartGate {
    private let limit: Int
    private var inside = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func enter() async {
        if inside < limit {
            inside += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            inside -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
