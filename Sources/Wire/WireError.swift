/// Why a message was refused, in one line.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case oversized(size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .malformed(reason): return "malformed message: \(reason)"
        case let .oversized(size, limit): return "message of \(size) bytes is over the \(limit)-byte limit"
        }
    }
}
