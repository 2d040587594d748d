import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with a clean signal mask and default signal
/// dispositions, stopped by its PID.
///
/// Why not Foundation's `Process`: tests run on libdispatch worker threads,
/// which block every signal, and a spawned child inherits the spawning
/// thread's mask, so a `Process` started from a test ignores SIGTERM (a
/// mosquitto started that way never saves its persistence file).
///
/// Why not swift-subprocess, which `ProcessRunner` uses for every command
/// that runs to completion: its 1.0 API is structured (the child lives
/// inside the closure of an async `run`, which also reaps it), while these
/// children outlive the call that starts them, are signalled and stopped by
/// PID from synchronous code, and are killed in `deinit` when a test drops
/// them.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The wait status once reaped.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; stdout and stderr go to
    /// `outputFile` (appended) or /dev/null, stdin reads /dev/null.
    public init(_ executable: String, _ arguments: [String], outputFile: String? = nil, environment: [String: String]? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let output = outputFile ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }

        var child = pid_t()
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, env)
        guard rc == 0 else {
            throw TestSupportError.commandFailed("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        terminate(signal: SIGKILL, timeout: 5)
    }

    /// Whether the child is still running (reaps it when it has exited).
    public var isRunning: Bool {
        exitStatus.withLock { exitStatus in
            if exitStatus != nil { return false }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid || rc < 0 {
                exitStatus = status
                return false
            }
            return true
        }
    }

    /// The raw wait status once exited (use `exitCode`/`signalled`).
    public var status: Int32? { exitStatus.withLock { $0 } }
    public var exitCode: Int32? { status.flatMap { ($0 & 0x7f) == 0 ? ($0 >> 8) & 0xff : nil } }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Sends `signal`, waits up to `timeout` seconds, then SIGKILL.
    /// Returns whether the child exited within the timeout.
    @discardableResult
    public func terminate(signal: Int32 = SIGTERM, timeout: Double = 5) -> Bool {
        guard isRunning else { return true }
        kill(pid, signal)
        if waitForExit(timeout: timeout) { return true }
        kill(pid, SIGKILL)
        _ = waitForExit(timeout: 5)
        return false
    }

    /// `terminate` for async tests: waits with `Task.sleep`, so the test
    /// does not hold one of the few cooperative threads (2 on a 2-core
    /// machine) that in-process brokers' peers and aggregators need.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 5) async -> Bool {
        guard isRunning else { return true }
        kill(pid, signal)
        if await exited(timeout: timeout) { return true }
        kill(pid, SIGKILL)
        _ = await exited(timeout: 5)
        return false
    }

    /// `waitForExit` for async tests (see `stop`).
    public func exited(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Waits until the child exits or `timeout` seconds pass.
    public func waitForExit(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return false }
            usleep(2_000)
        }
        return true
    }
}
