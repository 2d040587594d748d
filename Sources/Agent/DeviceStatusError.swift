import FoundationEssentials

/// A status file that cannot be read as a status report: what `fieldproof
/// status` prints instead of a decoder's dump (or a crash).
public enum DeviceStatusError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path) is not a status report the daemon wrote (\(reason)); it is rewritten every second while "
                + "`fieldproof run` runs: restart the daemon (systemctl restart fieldproof) or remove the file"
        }
    }

    /// One line for a decoding failure: which field, and what was wrong.
    static func explain(_ error: DecodingError) -> String {
        func field(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .dataCorrupted(context): return "not JSON at \(field(context.codingPath)): \(context.debugDescription)"
        case let .keyNotFound(key, context): return "missing \(field(context.codingPath + [key]))"
        case let .typeMismatch(_, context): return "wrong type at \(field(context.codingPath))"
        case let .valueNotFound(_, context): return "null at \(field(context.codingPath))"
        @unknown default: return "undecodable"
        }
    }
}
