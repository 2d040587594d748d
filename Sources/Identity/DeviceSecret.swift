#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The device's 32-byte secret: made once from the system random source,
/// kept with mode 0600 in the state directory, never sent or logged.
public struct DeviceSecret: Equatable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { "DeviceSecret(32 bytes)" }

    /// Reads the secret at `path`, creating it (atomically, 0600) the first time.
    /// A file that group or others may read is refused with the fix.
    public static func loadOrCreate(at path: String) throws(IdentityError) -> DeviceSecret {
        if let existing = try load(at: path) { return existing }
        var generator = SystemRandomNumberGenerator()
        let secret = DeviceSecret(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try SecretFile.writeAtomically(path, secret.bytes)
        return secret
    }

    /// Reads the secret at `path`; nil when there is none.
    public static func load(at path: String) throws(IdentityError) -> DeviceSecret? {
        guard let bytes = try SecretFile.read(path) else { return nil }
        guard bytes.count == 32 else { throw .secretFileCorrupt(path: path, size: bytes.count) }
        return DeviceSecret(bytes: bytes)
    }
}

/// Reading and writing small secret files: mode 0600, atomic replace,
/// refusal of files others can read.
public enum SecretFile {
    public static func read(_ path: String) throws(IdentityError) -> [UInt8]? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw .fileSystem(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(info.st_mode) & 0o777
        if mode & 0o077 != 0 { throw .secretFileTooOpen(path: path, mode: mode) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileSystem(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw .fileSystem(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > 4096 { throw .fileSystem(path: path, reason: "larger than a secret file can be") }
        }
        return bytes
    }

    /// Writes `bytes` to a temporary file (0600), fsyncs, renames it over
    /// `path` and fsyncs the directory: a crash leaves old or new, whole.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(IdentityError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fileSystem(path: temporary, reason: String(cString: strerror(errno))) }
        fchmod(fd, 0o600)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(fd, base + written, buffer.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .fileSystem(path: temporary, reason: reason)
            }
            written += count
        }
        let synced = fsync(fd)
        close(fd)
        guard synced == 0, rename(temporary, path) == 0 else { throw .fileSystem(path: path, reason: String(cString: strerror(errno))) }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}
