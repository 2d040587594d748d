/// A mapping in a configuration file, read key by key with typed getters.
/// Every error names the file, line and column of the offending value, the
/// setting's path and an example; `finish()` rejects keys nobody read (a
/// typo must not silently fall back to a default).
public final class ConfigSection {
    public let file: String
    /// The path of this mapping (`broker`, `sensors[1]`); empty at the root.
    public let path: String
    public let node: YAMLNode
    private let pairs: [YAMLPair]
    private var read: Set<String> = []

    /// Parses `text` and returns its top-level mapping.
    public static func root(text: String, file: String) throws(ConfigError) -> ConfigSection {
        let node = try YAMLParser.parse(text, file: file)
        if node.isNull { return try ConfigSection(file: file, path: "", node: YAMLNode(kind: .mapping([]), line: 1, column: 1)) }
        return try ConfigSection(file: file, path: "", node: node)
    }

    init(file: String, path: String, node: YAMLNode) throws(ConfigError) {
        self.file = file
        self.path = path
        self.node = node
        guard case let .mapping(pairs) = node.kind else {
            throw ConfigError(file: file, line: node.line, column: node.column, key: path,
                              message: "expected a mapping of `key: value` lines, found \(node.kindName)")
        }
        var seen: [String: YAMLNode] = [:]
        for pair in pairs {
            guard case let .scalar(name, _) = pair.key.kind else {
                throw ConfigError(file: file, line: pair.key.line, column: pair.key.column, key: path,
                                  message: "keys must be plain names")
            }
            if let first = seen[name] {
                throw ConfigError(file: file, line: pair.key.line, column: pair.key.column, key: Self.keyPath(name, in: path),
                                  message: "set twice (first on line \(first.line)); keep one")
            }
            seen[name] = pair.key
        }
        self.pairs = pairs
    }

    public func keyPath(_ key: String) -> String { Self.keyPath(key, in: path) }

    static func keyPath(_ key: String, in path: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The value node of `key`, marking the key as read.
    public func value(_ key: String) -> YAMLNode? {
        read.insert(key)
        guard let node = pairs.first(where: { if case let .scalar(name, _) = $0.key.kind { return name == key } else { return false } })?.value,
              !node.isNull else { return nil }
        return node
    }

    public func contains(_ key: String) -> Bool {
        pairs.contains { if case let .scalar(name, _) = $0.key.kind { return name == key } else { return false } }
    }

    /// An error located at `key`'s value (or at this mapping when absent).
    public func error(_ key: String, _ message: String, example: String? = nil) -> ConfigError {
        let node = pairs.first(where: { if case let .scalar(name, _) = $0.key.kind { return name == key } else { return false } })?.value ?? node
        return ConfigError(file: file, line: node.line, column: node.column, key: keyPath(key), message: message, example: example)
    }

    private func missing(_ key: String, example: String?) -> ConfigError {
        ConfigError(file: file, line: node.line, column: node.column, key: keyPath(key),
                    message: "is required but missing" + (path.isEmpty ? "" : " in \(path)"), example: example)
    }

    // MARK: Scalars

    private func scalarText(_ key: String, example: String?) throws(ConfigError) -> (String, quoted: Bool)? {
        guard let node = value(key) else { return nil }
        guard case let .scalar(text, quoted) = node.kind else {
            throw error(key, "expected a single value, found \(node.kindName)", example: example)
        }
        return (text, quoted)
    }

    public func string(_ key: String, example: String? = nil) throws(ConfigError) -> String? {
        guard let (text, _) = try scalarText(key, example: example) else { return nil }
        return text
    }

    public func string(_ key: String, default fallback: String? = nil, example: String? = nil) throws(ConfigError) -> String {
        if let text = try string(key, example: example) { return text }
        if let fallback { return fallback }
        throw missing(key, example: example)
    }

    /// An integer; accepts decimal, `0x…` hexadecimal (I2C addresses) and `_` separators.
    public func int(_ key: String, in range: ClosedRange<Int>? = nil, example: String? = nil) throws(ConfigError) -> Int? {
        guard let (text, quoted) = try scalarText(key, example: example) else { return nil }
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        let parsed: Int?
        if cleaned.lowercased().hasPrefix("0x") { parsed = Int(cleaned.dropFirst(2), radix: 16) } else { parsed = Int(cleaned) }
        guard !quoted, let value = parsed else {
            throw error(key, "\"\(text)\" is not a whole number", example: example)
        }
        if let range, !range.contains(value) {
            throw error(key, "\(value) is out of range \(range.lowerBound)…\(range.upperBound)", example: example)
        }
        return value
    }

    public func int(_ key: String, default fallback: Int?, in range: ClosedRange<Int>? = nil, example: String? = nil) throws(ConfigError) -> Int {
        if let value = try int(key, in: range, example: example) { return value }
        if let fallback { return fallback }
        throw missing(key, example: example)
    }

    public func double(_ key: String, default fallback: Double?, in range: ClosedRange<Double>? = nil, example: String? = nil) throws(ConfigError) -> Double {
        guard let (text, quoted) = try scalarText(key, example: example) else {
            if let fallback { return fallback }
            throw missing(key, example: example)
        }
        guard !quoted, let value = Double(text), value.isFinite else {
            throw error(key, "\"\(text)\" is not a number", example: example)
        }
        if let range, !range.contains(value) {
            throw error(key, "\(text) is out of range \(range.lowerBound)…\(range.upperBound)", example: example)
        }
        return value
    }

    public func bool(_ key: String, default fallback: Bool?, example: String? = nil) throws(ConfigError) -> Bool {
        guard let (text, quoted) = try scalarText(key, example: example) else {
            if let fallback { return fallback }
            throw missing(key, example: example)
        }
        switch (text.lowercased(), quoted) {
        case ("true", false), ("yes", false), ("on", false): return true
        case ("false", false), ("no", false), ("off", false): return false
        default: throw error(key, "\"\(text)\" is not true or false", example: example ?? "\(key): true")
        }
    }

    /// A duration in `DurationText`'s grammar: a number with `ms`, `s`, `m`,
    /// `h` or `d` (`500ms`, `10s`, `1.5m`, `24h`, `7d`), at most
    /// `DurationText.maximum` (3650d).
    public func duration(_ key: String, default fallback: Duration?, minimum: Duration? = nil, example: String? = nil) throws(ConfigError) -> Duration {
        let example = example ?? "\(key): 10s"
        guard let (text, _) = try scalarText(key, example: example) else {
            if let fallback { return fallback }
            throw missing(key, example: example)
        }
        do {
            return try DurationText.parse(text, minimum: minimum ?? .zero)
        } catch {
            throw self.error(key, error.description, example: example)
        }
    }

    /// A duration as a config file would write it: `500ms`, `10s`, `5m`, `1h`, `7d`.
    public static func format(_ duration: Duration) -> String { DurationText.format(duration) }

    static func parseDuration(_ text: String) -> Duration? { try? DurationText.parse(text) }

    /// A size in bytes: a whole number, optionally with `KiB`, `MiB`, `GiB` (or `KB`, `MB`, `GB`: powers of 1000).
    public func byteSize(_ key: String, default fallback: Int?, minimum: Int = 0, example: String? = nil) throws(ConfigError) -> Int {
        let example = example ?? "\(key): 64MiB"
        guard let (text, _) = try scalarText(key, example: example) else {
            if let fallback { return fallback }
            throw missing(key, example: example)
        }
        guard let value = Self.parseByteSize(text) else {
            throw error(key, "\"\(text)\" is not a size (bytes, or a number with KiB, MiB, GiB)", example: example)
        }
        if value < minimum { throw error(key, "\(text) is below the minimum of \(minimum) bytes", example: example) }
        return value
    }

    static func parseByteSize(_ text: String) -> Int? {
        let trimmed = text.filter { $0 != " " }
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000),
                                      ("GB", 1_000_000_000), ("B", 1)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number * Double(factor) < Double(Int.max) else { return nil }
            return Int(number * Double(factor))
        }
        return Int(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// One of a fixed set of words.
    public func choice(_ key: String, from choices: [String], default fallback: String?) throws(ConfigError) -> String {
        let example = "\(key): \(choices.first ?? "")"
        guard let (text, _) = try scalarText(key, example: example) else {
            if let fallback { return fallback }
            throw missing(key, example: example)
        }
        guard choices.contains(text) else {
            throw error(key, "\"\(text)\" is not one of \(choices.joined(separator: ", "))", example: example)
        }
        return text
    }

    // MARK: Structure

    /// A nested mapping, or nil when absent.
    public func section(_ key: String) throws(ConfigError) -> ConfigSection? {
        guard let node = value(key) else { return nil }
        return try ConfigSection(file: file, path: keyPath(key), node: node)
    }

    /// A list of mappings (`sensors:` entries).
    public func sections(_ key: String) throws(ConfigError) -> [ConfigSection] {
        guard let node = value(key) else { return [] }
        guard case let .sequence(items) = node.kind else {
            throw error(key, "expected a list (lines starting with `- `), found \(node.kindName)")
        }
        var result: [ConfigSection] = []
        for (index, item) in items.enumerated() {
            result.append(try ConfigSection(file: file, path: "\(keyPath(key))[\(index)]", node: item))
        }
        return result
    }

    /// A list of single values (`- value` lines); empty when absent.
    public func strings(_ key: String, example: String? = nil) throws(ConfigError) -> [String] {
        guard let node = value(key) else { return [] }
        guard case let .sequence(items) = node.kind else {
            throw error(key, "expected a list (lines starting with `- `), found \(node.kindName)", example: example)
        }
        var result: [String] = []
        for item in items {
            guard case let .scalar(text, _) = item.kind else {
                throw error(key, "each entry must be a single value, found \(item.kindName) on line \(item.line)", example: example)
            }
            result.append(text)
        }
        return result
    }

    /// The scalar values of a nested mapping (free-form driver options).
    public func scalars(_ key: String) throws(ConfigError) -> [String: String] {
        guard let nested = try section(key) else { return [:] }
        var result: [String: String] = [:]
        for pair in nested.pairs {
            guard case let .scalar(name, _) = pair.key.kind else { continue }
            guard case let .scalar(text, _) = pair.value.kind else {
                throw nested.error(name, "expected a single value, found \(pair.value.kindName)")
            }
            result[name] = text
            nested.read.insert(name)
        }
        return result
    }

    /// Rejects keys that were never read, suggesting the closest known one.
    public func finish() throws(ConfigError) {
        for pair in pairs {
            guard case let .scalar(name, _) = pair.key.kind, !read.contains(name) else { continue }
            let suggestion = read.min { Self.distance($0, name) < Self.distance($1, name) }
            var message = "unknown setting"
            if let suggestion, Self.distance(suggestion, name) <= max(2, name.count / 3) {
                message += "; did you mean `\(suggestion)`?"
            } else if !read.isEmpty {
                message += "; known here: \(read.sorted().joined(separator: ", "))"
            }
            throw ConfigError(file: file, line: pair.key.line, column: pair.key.column, key: keyPath(name), message: message)
        }
    }

    /// Levenshtein distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
