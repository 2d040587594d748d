#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The file system calls both binaries make, in one place: swift-system's
/// `FileDescriptor` (open, read, write, resize, close; each retries on EINTR)
/// and, for what it lacks (fsync, rename, unlink, mkdir, readdir), the same
/// EINTR retry here. Every failure names the operation, the path and the
/// errno's text.
public struct FileIOError: Error, Equatable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Errno

    public init(operation: String, path: String, errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path): \(errno.description)" }
}

public enum FileIO {
    /// Runs `call` again while it fails with EINTR (swift-system keeps its
    /// own `retryOnInterrupt` internal); nil on success, else the errno.
    static func retryingOnInterrupt(_ call: () -> Int32) -> Errno? {
        while true {
            if call() >= 0 { return nil }
            let code = Errno(rawValue: Glibc.errno)
            if code != .interrupted { return code }
        }
    }

    /// Runs a swift-system call, turning its `Errno` into a `FileIOError`.
    static func attempt<T>(_ operation: String, _ path: String, _ call: () throws -> T) throws(FileIOError) -> T {
        do {
            return try call()
        } catch let code as Errno {
            throw FileIOError(operation: operation, path: path, errno: code)
        } catch {
            throw FileIOError(operation: operation, path: path, errno: .ioError)
        }
    }

    public static func open(_ path: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
                            permissions: FilePermissions = [.ownerReadWrite]) throws(FileIOError) -> FileDescriptor {
        try attempt("open", path) {
            try FileDescriptor.open(FilePath(path), mode, options: options.union(.closeOnExec), permissions: permissions)
        }
    }

    public static func writeAll(_ fd: FileDescriptor, _ bytes: [UInt8], path: String) throws(FileIOError) {
        _ = try attempt("write", path) { try fd.writeAll(bytes) }
    }

    public static func fsync(_ fd: FileDescriptor, path: String) throws(FileIOError) {
        if let code = retryingOnInterrupt({ Glibc.fsync(fd.rawValue) }) {
            throw FileIOError(operation: "fsync", path: path, errno: code)
        }
    }

    public static func close(_ fd: FileDescriptor) {
        try? fd.close()
    }

    /// Reads a whole file; nil when it does not exist. `limit` bounds what
    /// a hostile or runaway file can make us hold (a `read` error past it).
    public static func readFile(_ path: String, limit: Int = Int.max) throws(FileIOError) -> [UInt8]? {
        let fd: FileDescriptor
        do {
            fd = try open(path, .readOnly)
        } catch {
            if error.errno == .noSuchFileOrDirectory { return nil }
            throw error
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try attempt("read", path) { try chunk.withUnsafeMutableBytes { try fd.read(into: $0) } }
            if count == 0 { break }
            if result.count + count > limit { throw FileIOError(operation: "read", path: path, errno: .fileTooLarge) }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// A whole file as text (board files, sysfs and procfs attributes); a
    /// missing file is an error, with `limit` as in `readFile`.
    public static func text(_ path: String, limit: Int = 1 << 20) throws(FileIOError) -> String {
        guard let bytes = try readFile(path, limit: limit) else {
            throw FileIOError(operation: "open", path: path, errno: .noSuchFileOrDirectory)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `length` bytes from `offset` (fewer at the end of the file).
    public static func readRange(_ path: String, offset: Int, length: Int) throws(FileIOError) -> [UInt8] {
        let fd = try open(path, .readOnly)
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: max(0, length))
        var done = 0
        while done < result.count {
            let count = try attempt("read", path) {
                try result.withUnsafeMutableBytes { buffer in
                    try fd.read(fromAbsoluteOffset: Int64(offset + done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
                }
            }
            if count == 0 { break }
            done += count
        }
        result.removeLast(result.count - done)
        return result
    }

    /// How hard `writeAtomically` makes a replacement last.
    public enum Durability: Equatable, Sendable {
        /// fsync the file before the rename and the directory after: the
        /// new content survives a power cut (secret, identity, sequence).
        case durable
        /// No fsync: readers still see the old or the new file, never half
        /// of one (the rename is atomic), but a power cut may lose it. For
        /// runtime state on tmpfs that is rewritten every second anyway.
        case runtime
    }

    /// The fsync `writeAtomically` calls (tests pass one that records).
    public typealias Sync = (FileDescriptor, String) throws(FileIOError) -> Void

    /// Replaces `path` atomically: write a temporary file in the same
    /// directory, rename it over the old one. `.durable` also fsyncs the
    /// file before the rename and the directory after, so a crash leaves
    /// the old or the new content, never a mix. `sync` is the fsync used
    /// (tests observe it).
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600,
                                       durability: Durability = .durable, sync: Sync = FileIO.fsync) throws(FileIOError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, .writeOnly, options: [.create, .truncate], permissions: FilePermissions(rawValue: mode))
        do throws(FileIOError) {
            // A temporary left by a crash keeps its old mode through O_TRUNC.
            if let code = retryingOnInterrupt({ fchmod(fd.rawValue, mode) }) {
                throw FileIOError(operation: "chmod", path: temporary, errno: code)
            }
            try writeAll(fd, bytes, path: temporary)
            if durability == .durable { try sync(fd, temporary) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        if let code = retryingOnInterrupt({ rename(temporary, path) }) {
            throw FileIOError(operation: "rename", path: path, errno: code)
        }
        if durability == .durable { try syncDirectory(of: path, sync: sync) }
    }

    public static func syncDirectory(of path: String, sync: Sync = FileIO.fsync) throws(FileIOError) {
        let directory = parent(of: path)
        let fd = try open(directory, .readOnly, options: .directory)
        defer { close(fd) }
        try sync(fd, directory)
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Removes `path`; one that does not exist is not an error.
    public static func remove(_ path: String) throws(FileIOError) {
        if let code = retryingOnInterrupt({ unlink(path) }), code != .noSuchFileOrDirectory {
            throw FileIOError(operation: "remove", path: path, errno: code)
        }
    }

    public static func truncate(_ fd: FileDescriptor, to length: Int, path: String) throws(FileIOError) {
        try attempt("truncate", path) { try fd.resize(to: Int64(length)) }
    }

    /// Creates `path`; one that exists already is not an error.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileIOError) {
        if let code = retryingOnInterrupt({ mkdir(path, mode) }), code != .fileExists {
            throw FileIOError(operation: "create directory", path: path, errno: code)
        }
    }

    /// Names in a directory (without "." and "..").
    public static func list(_ path: String) throws(FileIOError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileIOError(operation: "list", path: path, errno: Errno(rawValue: Glibc.errno))
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // Read in place: a record is only as long as its name (d_reclen),
            // so copying the whole `dirent` (`entry.pointee`) can read past the
            // end of glibc's buffer into an unmapped page. It did: a crash
            // listing a crowded /tmp.
            let name = withUnsafePointer(to: &entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
