#if canImport(Glibc)
import Glibc
#endif

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
        var template = Array("/tmp/fieldproof-simulated-\(kind)-XXXXXX".utf8CString)
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
