#if canImport(Glibc)
import Glibc
#endif

public enum GPIOErrorKind: Equatable, Sendable {
    case missingChip
    case permissionDenied
    case busy
    case noSuchLine
    case io
    case released
}

/// A GPIO failure, naming the chip, the line and the OS reason, and what to
/// do about it.
public struct GPIOError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: GPIOErrorKind
    public var chip: String
    public var line: Int?
    public var errno: Int32?
    public var detail: String

    public init(kind: GPIOErrorKind, chip: String, line: Int? = nil, errno: Int32? = nil, detail: String) {
        self.kind = kind
        self.chip = chip
        self.line = line
        self.errno = errno
        self.detail = detail
    }

    public static func kind(forErrno code: Int32) -> GPIOErrorKind {
        switch code {
        case ENOENT, ENODEV, ENXIO: return .missingChip
        case EACCES, EPERM: return .permissionDenied
        case EBUSY: return .busy
        case EINVAL: return .noSuchLine
        default: return .io
        }
    }

    /// The error for a failed libgpiod call, with the usual fix.
    public static func fromErrno(_ code: Int32, chip: String, line: Int?, operation: String) -> GPIOError {
        let kind = kind(forErrno: code)
        let reason = String(cString: strerror(code))
        let hint: String
        switch kind {
        case .missingChip: hint = "no such GPIO chip: list them with `gpiodetect`, and check the chip label in the board file"
        case .permissionDenied: hint = "add the user to the `gpio` group (`sudo usermod -aG gpio $USER`, then log in again)"
        case .busy: hint = "another program holds the line: `gpioinfo` shows its consumer"
        case .noSuchLine: hint = "check the pin → line map in the board file"
        default: hint = "check the wiring"
        }
        return GPIOError(kind: kind, chip: chip, line: line, errno: code, detail: "\(operation): \(reason); \(hint)")
    }

    public var description: String {
        let where_ = line.map { "line \($0) of \(chip)" } ?? chip
        return "\(where_): \(detail)"
    }
}
