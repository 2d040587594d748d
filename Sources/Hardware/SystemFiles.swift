#if canImport(Glibc)
import Glibc
#endif

/// The few file-system reads hardware code makes (sysfs attributes, the
/// device-tree model, board files), without Foundation. Failures carry the
/// errno.
public enum SystemFiles {
    public struct Failure: Error, Equatable, Sendable {
        public var code: Int32
        public var reason: String { String(cString: strerror(code)) }
    }

    /// The names in `directory` (without "." and "..").
    public static func names(in directory: String) throws(Failure) -> [String] {
        guard let handle = opendir(directory) else { throw Failure(code: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A whole file as text (board files, sysfs attributes: small).
    public static func text(_ path: String) throws(Failure) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(code: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw Failure(code: errno) }
            if count == 0 { break }
            bytes += buffer.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
