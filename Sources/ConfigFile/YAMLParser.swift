import CYAML

/// Parses YAML text with libyaml's document API into `YAMLNode`s.
public enum YAMLParser {
    /// Parses one document; an empty document is an empty mapping.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw ConfigError(file: file, line: 1, column: 1, message: "cannot initialise the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        var document = yaml_document_t()
        let loaded = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return yaml_parser_load(&parser, &document)
        }
        guard loaded != 0 else {
            let mark = parser.problem_mark
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = parser.context.map { " " + String(cString: $0) } ?? ""
            throw ConfigError(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1,
                              message: "not valid YAML: \(problem)\(context)",
                              example: "`key: value` pairs, indented with spaces (never tabs)")
        }
        defer { yaml_document_delete(&document) }
        guard let root = yaml_document_get_root_node(&document) else {
            return YAMLNode(kind: .mapping([]), line: 1, column: 1)
        }
        var depth = 0
        var visited: Set<UnsafeMutablePointer<yaml_node_t>> = []
        return try convert(root, in: &document, file: file, depth: &depth, visited: &visited)
    }

    private static func convert(_ node: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t,
                                file: String, depth: inout Int,
                                visited: inout Set<UnsafeMutablePointer<yaml_node_t>>) throws(ConfigError) -> YAMLNode {
        let line = Int(node.pointee.start_mark.line) + 1
        let column = Int(node.pointee.start_mark.column) + 1
        // libyaml's document API resolves an alias to the node its anchor
        // names, so a node reached twice is an alias. Refused: configs never
        // need them, and nested ones expand exponentially (a few hundred
        // bytes of "billion laughs" would be 10^9 nodes).
        guard visited.insert(node).inserted else {
            throw ConfigError(file: file, line: line, column: column, message: "the value anchored here is used again through an alias; YAML anchors and aliases (&name, *name) are not supported",
                              example: "write the value out where it is needed")
        }
        // Aliases can build deep or cyclic-looking structures; configs never need that.
        depth += 1
        defer { depth -= 1 }
        if depth > 64 {
            throw ConfigError(file: file, line: line, column: column, message: "nesting deeper than 64 levels")
        }
        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            let scalar = node.pointee.data.scalar
            let text: String
            if let value = scalar.value {
                text = String(decoding: UnsafeBufferPointer(start: value, count: scalar.length), as: UTF8.self)
            } else {
                text = ""
            }
            let quoted = scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE || scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE
                || scalar.style == YAML_LITERAL_SCALAR_STYLE || scalar.style == YAML_FOLDED_SCALAR_STYLE
            return YAMLNode(kind: .scalar(text, quoted: quoted), line: line, column: column)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current != node.pointee.data.sequence.items.top {
                if let child = yaml_document_get_node(&document, current.pointee) {
                    items.append(try convert(child, in: &document, file: file, depth: &depth, visited: &visited))
                }
                item = current + 1
            }
            return YAMLNode(kind: .sequence(items), line: line, column: column)
        case YAML_MAPPING_NODE:
            var pairs: [YAMLPair] = []
            var pair = node.pointee.data.mapping.pairs.start
            while let current = pair, current != node.pointee.data.mapping.pairs.top {
                if let key = yaml_document_get_node(&document, current.pointee.key),
                   let value = yaml_document_get_node(&document, current.pointee.value) {
                    let keyNode = try convert(key, in: &document, file: file, depth: &depth, visited: &visited)
                    let valueNode = try convert(value, in: &document, file: file, depth: &depth, visited: &visited)
                    pairs.append(YAMLPair(key: keyNode, value: valueNode))
                }
                pair = current + 1
            }
            return YAMLNode(kind: .mapping(pairs), line: line, column: column)
        default:
            return YAMLNode(kind: .scalar("", quoted: false), line: line, column: column)
        }
    }
}
