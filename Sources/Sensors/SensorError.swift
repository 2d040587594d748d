import Hardware

/// Why a sensor gave no reading: a `code` the station decides by (retry,
/// detect the chip again) and a `message` that says what happened and what
/// to do.
public struct SensorError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A bus error as a sensor error, named after the driver.
    public static func bus(_ error: I2CError, chip: String) -> SensorError {
        let code: Code
        switch error.kind {
        case .noAcknowledgeAddress, .noAcknowledgeData: code = .noAcknowledge
        case .missingBus: code = .noBus
        case .permissionDenied: code = .permission
        case .unsupported: code = .unsupported
        default: code = .bus
        }
        return SensorError(code: code, message: "\(chip): \(error)")
    }

    public static func crc(chip: String, attempts: Int) -> SensorError {
        SensorError(code: .crc, message: "\(chip): CRC mismatch in \(attempts) attempts in a row: check wiring, cable length and pull-ups")
    }
}
