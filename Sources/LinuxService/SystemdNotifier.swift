#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The sd_notify protocol, spoken directly (no libsystemd): one datagram of
/// `KEY=VALUE` lines to the unix socket named by `NOTIFY_SOCKET`. A leading
/// `@` names a socket in the abstract namespace. Without `NOTIFY_SOCKET`
/// (not started by systemd) every call is a no-op.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// How often systemd expects `WATCHDOG=1` (`WATCHDOG_USEC`), when it
    /// asked this process (`WATCHDOG_PID` absent or ours).
    public let watchdogMicroseconds: UInt64?

    public init(environment: [String: String]? = nil) {
        func value(_ key: String) -> String? {
            if let environment { return environment[key] }
            return getenv(key).map { String(cString: $0) }
        }
        let path = value("NOTIFY_SOCKET").flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        let pidMatches = value("WATCHDOG_PID").map { $0 == String(getpid()) } ?? true
        watchdogMicroseconds = pidMatches ? value("WATCHDOG_USEC").flatMap { UInt64($0) }.flatMap { $0 > 0 ? $0 : nil } : nil
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends `READY=1`.
    @discardableResult public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// A free-form status line systemctl shows.
    @discardableResult public func status(_ text: String) -> Bool { send(["STATUS=\(text)"]) }

    /// Tells systemd the service is alive; send only while it really is.
    @discardableResult public func watchdog() -> Bool { send(["WATCHDOG=1"]) }

    @discardableResult public func stopping() -> Bool { send(["STOPPING=1"]) }

    @discardableResult public func reloading() -> Bool { send(["RELOADING=1"]) }

    /// Sends the lines as one datagram; false when there is no socket or the
    /// send failed (systemd gone: nothing to do about it).
    @discardableResult public func send(_ lines: [String]) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let message = Array(lines.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == message.count
    }
}
