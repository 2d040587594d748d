#if canImport(Glibc)
import Glibc
#endif
import LinuxService

/// A directory under /tmp standing in for part of sysfs (a thermal zone,
/// a 1-Wire bus, a hwmon device), with the files a kernel driver would
/// show; removed by `remove()`.
struct SysfsTree: Sendable {
    /// The tree's root, or /nonexistent when it could not be made.
    let root: String
    /// Paths under the root: directories (a trailing `/`) and files.
    private let entries: [(path: String, text: String)]

    /// `entries`: files with their text, and directories (`w1_bus_master1/`,
    /// empty text) that hold no file; a file's own directory is made for it.
    init(kind: String, _ entries: [(path: String, text: String)]) {
        self.entries = entries
        _ = Self.removeStaleOnce
        // The pid in the name lets a later run remove what a killed one left.
        var template = Array("/tmp/\(Self.prefix)\(kind)-\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            root = "/nonexistent"
            return
        }
        root = String(cString: made)
        for directory in Self.directories(of: entries) { mkdir("\(root)/\(directory)", 0o755) }
        for entry in entries where !entry.path.hasSuffix("/") {
            if let file = fopen("\(root)/\(entry.path)", "w") {
                fputs(entry.text, file)
                fclose(file)
            }
        }
    }

    /// Replaces a file's text at once (written beside it, then renamed), so
    /// a driver reading it meanwhile sees the old text or the new, never half.
    func update(_ path: String, _ text: String) {
        let temporary = "\(root)/\(path).new"
        guard let file = fopen(temporary, "w") else { return }
        fputs(text, file)
        fclose(file)
        rename(temporary, "\(root)/\(path)")
    }

    static let prefix = "fieldproof-simulated-"

    /// Trees whose process is gone (killed before its deinit ran), removed
    /// the first time this process makes one.
    private static let removeStaleOnce: Void = removeStale(in: "/tmp")

    /// Removes each `fieldproof-simulated-<kind>-<pid>-XXXXXX` directory in
    /// `directory` whose pid no longer runs.
    static func removeStale(in directory: String) {
        guard let names = try? FileIO.list(directory) else { return }
        var stale: [String] = []
        for name in names {
            guard name.hasPrefix(prefix) else { continue }
            // <kind>-<pid>-<six characters>
            let parts = name.dropFirst(prefix.count).split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
            // Only our own directories: /tmp is everyone's, and a symlink
            // planted under such a name must not lead the removal elsewhere.
            var info = stat()
            guard lstat("\(directory)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else { continue }
            stale.append("\(directory)/\(name)")
        }
        for path in stale { removeTree(path, depth: 3) }
    }

    /// Files and directories below `path`, at most `depth` levels (the trees are two deep).
    private static func removeTree(_ path: String, depth: Int) {
        if let names = try? FileIO.list(path) {
            for child in names.map({ "\(path)/\($0)" }) where unlink(child) != 0 && depth > 0 { removeTree(child, depth: depth - 1) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    func remove() {
        for entry in entries where !entry.path.hasSuffix("/") { unlink("\(root)/\(entry.path)") }
        for directory in Self.directories(of: entries).reversed() { rmdir("\(root)/\(directory)") }
        rmdir(root)
    }

    /// Each directory the entries need, once, parents first (one level is all the trees use).
    private static func directories(of entries: [(path: String, text: String)]) -> [String] {
        var seen: [String] = []
        for entry in entries {
            let directory = entry.path.hasSuffix("/") ? String(entry.path.dropLast())
                : String(entry.path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
            if !directory.isEmpty, !seen.contains(directory) { seen.append(directory) }
        }
        return seen
    }
}
