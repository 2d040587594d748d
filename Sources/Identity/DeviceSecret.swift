#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LinuxService

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

/// Reading and writing small secret files: mode 0600, atomic durable
/// replace (through `FileIO`), refusal of files others can read.
public enum SecretFile {
    /// The largest secret file read; anything bigger is not ours.
    static let limit = 4096

    public static func read(_ path: String) throws(IdentityError) -> [UInt8]? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw .fileSystem(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(info.st_mode) & 0o777
        if mode & 0o077 != 0 { throw .secretFileTooOpen(path: path, mode: mode) }
        do {
            return try FileIO.readFile(path, limit: limit)
        } catch {
            throw .fileSystem(path: path, reason: error.errno == .fileTooLarge ? "larger than a secret file can be" : "\(error.errno)")
        }
    }

    /// Writes `bytes` to a temporary file (0600), fsyncs, renames it over
    /// `path` and fsyncs the directory: a crash leaves old or new, whole.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(IdentityError) {
        do {
            try FileIO.writeAtomically(path, bytes, mode: 0o600)
        } catch {
            throw .fileSystem(path: path, reason: "\(error)")
        }
    }
}
