import ConfigFile
import Hardware
#if canImport(Glibc)
import Glibc
import LinuxService
#endif

/// Every board file in a directory, and detection by model string.
public struct BoardCatalog: Sendable {
    public var boards: [Board]
    public static let genericName = "generic-linux"
    public static let modelPath = "/proc/device-tree/model"

    public init(boards: [Board]) { self.boards = boards }

    /// Loads every `*.yaml` in `directory`; a broken file is an error naming it.
    public static func load(directory: String) throws(ConfigError) -> BoardCatalog {
        let files: [String]
        do { files = try FileIO.list(directory).filter { $0.hasSuffix(".yaml") } } catch {
            throw ConfigError(file: directory, line: 0, column: 0, key: "", message: "cannot read the board directory: \(error.errno); set FIELDPROOF_BOARDS to the project's boards/ directory")
        }
        var boards: [Board] = []
        for name in files.sorted() {
            let path = "\(directory)/\(name)"
            let text: String
            do { text = try FileIO.text(path) } catch {
                throw ConfigError(file: path, line: 0, column: 0, key: "", message: "cannot read: \(error.errno)")
            }
            let board = try Board.parse(text, file: path)
            if let other = boards.first(where: { $0.name == board.name }) {
                throw ConfigError(file: path, line: 1, column: 1, key: "name", message: "board name \"\(board.name)\" is also used by \(other.file)")
            }
            boards.append(board)
        }
        return BoardCatalog(boards: boards)
    }

    /// Where board files live: `$FIELDPROOF_BOARDS`, the installed copy, or
    /// the source tree's `boards/` above the running binary (development).
    public static func defaultDirectory(executablePath: String = runningExecutable()) -> String {
        if let path = getenv("FIELDPROOF_BOARDS") { return String(cString: path) }
        for installed in ["/usr/share/fieldproof/boards", "/usr/local/share/fieldproof/boards"] where access("\(installed)/\(genericName).yaml", R_OK) == 0 {
            return installed
        }
        var directory = executablePath
        for _ in 0..<6 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            let candidate = (directory.isEmpty ? "." : directory) + "/boards"
            if access("\(candidate)/\(genericName).yaml", R_OK) == 0 { return candidate }
        }
        return "/usr/share/fieldproof/boards"
    }

    /// The absolute path of the running binary (`/proc/self/exe`).
    public static func runningExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The board whose model string is the longest prefix of `model`, else the generic board.
    public func detect(model: String) -> Board? {
        let model = model.replacingNulls
        let matches = boards.filter { !$0.model.isEmpty && model.hasPrefix($0.model) }
        return matches.max { $0.model.count < $1.model.count } ?? named(Self.genericName)
    }

    public func named(_ name: String) -> Board? { boards.first { $0.name == name } }

    /// `auto`: detect from `/proc/device-tree/model` (or `modelPath`);
    /// otherwise the named board, or an error listing the known ones.
    public func select(_ setting: String, modelPath: String = BoardCatalog.modelPath) throws(BoardError) -> Board {
        if setting == "auto" {
            let model = (try? FileIO.text(modelPath)) ?? ""
            guard let board = detect(model: model) else {
                throw BoardError("no board matches model \"\(model.replacingNulls)\" and there is no \(Self.genericName).yaml; known boards: \(boardNames)")
            }
            return board
        }
        guard let board = named(setting) else {
            throw BoardError("unknown board \"\(setting)\"; known boards: \(boardNames), or `auto`")
        }
        return board
    }

    var boardNames: String { boards.map(\.name).joined(separator: ", ") }
}

extension String {
    /// The device tree's model string ends with a NUL.
    var replacingNulls: String { String(unicodeScalars.filter { $0 != "\0" && $0 != "\n" }) }
}
