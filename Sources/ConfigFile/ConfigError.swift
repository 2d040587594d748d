/// A configuration problem, located in its file: what is wrong and an
/// example of what is right. Prints as `file:line:column: message`, the form
/// editors and CI logs make clickable.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    /// The setting, as a path (`sensors[1].interval`), or empty.
    public var key: String
    public var message: String
    /// What a correct line looks like.
    public var example: String?

    public init(file: String, line: Int, column: Int, key: String = "", message: String, example: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.example = example
    }

    public var description: String {
        var text = "\(file):\(line):\(column): "
        if !key.isEmpty { text += "\(key): " }
        text += message
        if let example { text += "; for example: \(example)" }
        return text
    }

    /// The exit status for a configuration error (sysexits.h EX_CONFIG).
    public static let exitCode: Int32 = 78
}
