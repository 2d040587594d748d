#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The agent's file system calls, in one place: each retries on EINTR and
/// throws an error naming the path and the OS reason.
struct FileIOError: Error, Equatable, CustomStringConvertible {
    var operation: String
    var path: String
    var code: Int32

    var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}

enum FileIO {
    static func retrying(_ call: () -> Int) -> (Int, Int32) {
        while true {
            let rc = call()
            if rc < 0 && errno == EINTR { continue }
            return (rc, rc < 0 ? errno : 0)
        }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(FileIOError) -> Int32 {
        let (fd, code) = retrying { Int(Glibc.open(path, flags | O_CLOEXEC, mode)) }
        if fd < 0 { throw FileIOError(operation: "open", path: path, code: code) }
        return Int32(fd)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(FileIOError) {
        var offset = 0
        while offset < bytes.count {
            let (written, code) = bytes.withUnsafeBytes { buffer -> (Int, Int32) in
                guard let base = buffer.baseAddress else { return (0, 0) }
                return retrying { Glibc.write(fd, base + offset, buffer.count - offset) }
            }
            if written < 0 { throw FileIOError(operation: "write", path: path, code: code) }
            offset += written
        }
    }

    static func fsync(_ fd: Int32, path: String) throws(FileIOError) {
        let (rc, code) = retrying { Int(Glibc.fsync(fd)) }
        if rc < 0 { throw FileIOError(operation: "fsync", path: path, code: code) }
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Reads a whole file; nil when it does not exist.
    static func readFile(_ path: String) throws(FileIOError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try open(path, O_RDONLY)
        } catch {
            if error.code == ENOENT { return nil }
            throw error
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (count, code) = chunk.withUnsafeMutableBytes { buffer in
                retrying { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { throw FileIOError(operation: "read", path: path, code: code) }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// `length` bytes from `offset` (fewer at the end of the file).
    static func readRange(_ path: String, offset: Int, length: Int) throws(FileIOError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: max(0, length))
        var done = 0
        while done < result.count {
            let (count, code) = result.withUnsafeMutableBytes { buffer in
                retrying { Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done)) }
            }
            if count < 0 { throw FileIOError(operation: "read", path: path, code: code) }
            if count == 0 { break }
            done += count
        }
        result.removeLast(result.count - done)
        return result
    }

    /// How hard `writeAtomically` makes a replacement last.
    enum Durability: Equatable, Sendable {
        /// fsync the file before the rename and the directory after: the
        /// new content survives a power cut (secret, identity, sequence).
        case durable
        /// No fsync: readers still see the old or the new file, never half
        /// of one (the rename is atomic), but a power cut may lose it. For
        /// runtime state on tmpfs that is rewritten every second anyway.
        case runtime
    }

    /// Replaces `path` atomically: write a temporary file in the same
    /// directory, rename it over the old one. `.durable` also fsyncs the
    /// file before the rename and the directory after, so a crash leaves
    /// the old or the new content, never a mix. `sync` is the fsync used
    /// (tests observe it).
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600, durability: Durability = .durable,
                                sync: (Int32, String) throws(FileIOError) -> Void = FileIO.fsync) throws(FileIOError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        do {
            try writeAll(fd, bytes, path: temporary)
            if durability == .durable { try sync(fd, temporary) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        let (rc, code) = retrying { Int(rename(temporary, path)) }
        if rc < 0 { throw FileIOError(operation: "rename", path: path, code: code) }
        if durability == .durable { try syncDirectory(of: path, sync: sync) }
    }

    static func syncDirectory(of path: String, sync: (Int32, String) throws(FileIOError) -> Void = FileIO.fsync) throws(FileIOError) {
        let directory = parent(of: path)
        let fd = try open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, directory)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func remove(_ path: String) throws(FileIOError) {
        let (rc, code) = retrying { Int(unlink(path)) }
        if rc < 0 && code != ENOENT { throw FileIOError(operation: "remove", path: path, code: code) }
    }

    static func truncate(_ fd: Int32, to length: Int, path: String) throws(FileIOError) {
        let (rc, code) = retrying { Int(ftruncate(fd, off_t(length))) }
        if rc < 0 { throw FileIOError(operation: "truncate", path: path, code: code) }
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(FileIOError) {
        let (rc, code) = retrying { Int(mkdir(path, mode)) }
        if rc < 0 && code != EEXIST { throw FileIOError(operation: "create directory", path: path, code: code) }
    }

    /// Names in a directory (without "." and "..").
    static func list(_ path: String) throws(FileIOError) -> [String] {
        guard let directory = opendir(path) else { throw FileIOError(operation: "list", path: path, code: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
