/// A parsed YAML node with the position (1-based line and column) where it
/// starts, so every later check can point at the exact place.
public struct YAMLNode: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `quoted` is true for '…' and "…" scalars: those are always strings.
        case scalar(String, quoted: Bool)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var kind: Kind
    public var line: Int
    public var column: Int

    public init(kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// What this node is, in words, for error messages.
    public var kindName: String {
        switch kind {
        case .scalar: return "a single value"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// True for an empty or `~`/`null` plain scalar.
    public var isNull: Bool {
        if case let .scalar(text, quoted) = kind, !quoted { return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" }
        return false
    }
}

public struct YAMLPair: Sendable, Equatable {
    public var key: YAMLNode
    public var value: YAMLNode
}
