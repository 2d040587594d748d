/// Errors a technician or operator can meet, each with what to do.
public enum IdentityError: Error, Equatable, Sendable, CustomStringConvertible {
    case pinNotDigits
    case pinLength(Int)
    case secretFileTooOpen(path: String, mode: UInt32)
    case secretFileCorrupt(path: String, size: Int)
    case fileSystem(path: String, reason: String)
    case keyDerivation(String)

    public var description: String {
        switch self {
        case .pinNotDigits:
            return "the PIN must be digits only (0–9)"
        case let .pinLength(length):
            return "the PIN must be 6 to 10 digits long, not \(length)"
        case let .secretFileTooOpen(path, mode):
            return "device secret \(path) is readable by others (mode \(String(mode, radix: 8))): run `chmod 600 \(path)` and check who could have copied it"
        case let .secretFileCorrupt(path, size):
            return "device secret \(path) holds \(size) bytes, not 32: restore it from a backup, or delete it and pair the device again"
        case let .fileSystem(path, reason):
            return "\(path): \(reason)"
        case let .keyDerivation(reason):
            return "key derivation failed: \(reason)"
        }
    }
}
