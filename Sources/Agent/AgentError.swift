/// Errors of the device agent, each with what to do about it.
public enum AgentError: Error, Equatable, CustomStringConvertible {
    /// A state file exists but cannot be trusted.
    case corruptState(path: String, reason: String)
    /// A record is larger than the spool can ever hold.
    case recordTooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case let .corruptState(path, reason):
            return "state file \(path) is unusable: \(reason)"
        case let .recordTooLarge(size, limit):
            return "a message of \(size) bytes does not fit in the spool (segment limit \(limit) bytes); raise spool.segment_bytes"
        }
    }
}
