/// What kind of I2C failure happened, independent of the platform (after
/// embedded-hal's `ErrorKind`), so a driver can react to "no acknowledge"
/// without knowing errno.
public enum I2CErrorKind: Equatable, Sendable {
    /// Nothing answered at the address (ENXIO, EREMOTEIO on Linux; ENODEV
    /// from SMBus-level adapters such as the kernel's i2c-stub, found by
    /// the hardware-in-the-loop test).
    case noAcknowledgeAddress
    /// The device stopped acknowledging during data (a command it refused).
    case noAcknowledgeData
    /// Another master won the bus (EAGAIN).
    case arbitrationLoss
    /// Bus error, timeout, or a transfer the adapter refused (EIO, EBUSY, EINVAL, ETIMEDOUT).
    case bus
    /// The adapter cannot do this kind of transfer (I2C_FUNCS says no).
    case unsupported
    /// The bus device node is missing.
    case missingBus
    /// No permission to open the bus.
    case permissionDenied
    case other
}

/// An I2C failure: which bus, which address, what the OS said, and — where
/// a technician can do something — what to do.
public struct I2CError: Error, Equatable, Sendable, CustomStringConvertible {
    public var kind: I2CErrorKind
    public var bus: String
    public var address: UInt16?
    public var errno: Int32?
    public var detail: String

    public init(kind: I2CErrorKind, bus: String, address: UInt16?, errno: Int32? = nil, detail: String) {
        self.kind = kind
        self.bus = bus
        self.address = address
        self.errno = errno
        self.detail = detail
    }

    /// The kernel's I2C fault codes (Documentation/i2c/fault-codes.rst).
    public static func kind(forErrno code: Int32) -> I2CErrorKind {
        switch code {
        case ENXIO, EREMOTEIO, ENODEV: return .noAcknowledgeAddress
        case EAGAIN: return .arbitrationLoss
        case EIO, EBUSY, EINVAL, ETIMEDOUT, EPROTO: return .bus
        case EOPNOTSUPP: return .unsupported
        case ENOENT: return .missingBus
        case EACCES, EPERM: return .permissionDenied
        default: return .other
        }
    }

    public var description: String {
        let at = address.map { "0x" + Self.hex($0) } ?? ""
        switch kind {
        case .noAcknowledgeAddress:
            return "no acknowledge from \(at) on \(bus): check wiring, power and the address (scan with `fieldproof scan`)"
        case .noAcknowledgeData:
            return "\(at) on \(bus) stopped acknowledging mid-transfer: check wiring and pull-ups"
        default:
            return detail.isEmpty ? "I2C error on \(bus)\(at.isEmpty ? "" : " at \(at)")" : detail
        }
    }

    public static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return digits.count < 2 ? "0" + digits : digits
    }
}

#if canImport(Glibc)
import Glibc
#endif
