import Hardware

/// One measured value, in SI units, with the quantity it measures.
public struct SensorReading: Equatable, Sendable {
    /// `temperature`, `relative_humidity`, `pressure`, `illuminance`,
    /// `carbon_dioxide`, `voltage`, `precipitation`, `wind_speed`, `state`.
    public var quantity: String
    public var value: Double
    /// `K`, `%`, `Pa`, `lx`, `ppm`, `V`, `mm`, `m/s`, `1`.
    public var unit: String
    /// Outside the sensor's datasheet operating range: reported, flagged.
    public var outOfRange: Bool

    public init(quantity: String, value: Double, unit: String, outOfRange: Bool = false) {
        self.quantity = quantity
        self.value = value
        self.unit = unit
        self.outOfRange = outOfRange
    }

    /// A Celsius value as an SI temperature (kelvin), flagged against a range in °C.
    public static func temperature(celsius: Double, range: ClosedRange<Double>) -> SensorReading {
        SensorReading(quantity: "temperature", value: celsius + 273.15, unit: "K", outOfRange: !range.contains(celsius))
    }

    public static func relativeHumidity(_ percent: Double, range: ClosedRange<Double> = 0...100) -> SensorReading {
        SensorReading(quantity: "relative_humidity", value: percent, unit: "%", outOfRange: !range.contains(percent))
    }
}

/// Why a sensor gave no reading; `code` is short and stable (it travels in
/// Telemetry), `message` says what happened and what to do.
public struct SensorError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// A bus error as a sensor error, named after the driver.
    public static func bus(_ error: I2CError, chip: String) -> SensorError {
        let code: String
        switch error.kind {
        case .noAcknowledgeAddress, .noAcknowledgeData: code = "no-ack"
        case .missingBus: code = "no-bus"
        case .permissionDenied: code = "permission"
        case .unsupported: code = "unsupported"
        default: code = "bus"
        }
        return SensorError(code: code, message: "\(chip): \(error)")
    }

    public static func crc(chip: String, attempts: Int) -> SensorError {
        SensorError(code: "crc", message: "\(chip): CRC mismatch in \(attempts) attempts in a row: check wiring, cable length and pull-ups")
    }
}

/// A sensor a driver reads. Drivers depend only on the `Hardware` protocols.
public protocol Sensor: AnyObject, Sendable {
    /// The configured name (`air`, `rain`, …).
    var name: String { get }
    /// The driver (`bme280`, …).
    var driver: String { get }
    /// Reads once; throws with a code and a message on failure.
    func read() throws(SensorError) -> [SensorReading]
    /// Gives back what the driver holds (GPIO lines, threads); the sensor
    /// is not read again after this.
    func close()
}

extension Sensor {
    public func close() {}
}

/// Sensirion's CRC-8: polynomial 0x31, initial 0xFF, no reflection; the
/// datasheets' example is 0xBEEF → 0x92.
public enum SensirionCRC {
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt8 {
        var crc: UInt8 = 0xFF
        for byte in bytes {
            crc ^= byte
            for _ in 0..<8 {
                crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x31 : crc << 1
            }
        }
        return crc
    }

    /// Splits `[msb, lsb, crc]…` into words, checking each CRC.
    public static func words(_ bytes: [UInt8]) -> [UInt16]? {
        guard bytes.count % 3 == 0 else { return nil }
        var words: [UInt16] = []
        for index in stride(from: 0, to: bytes.count, by: 3) {
            guard checksum(bytes[index..<index + 2]) == bytes[index + 2] else { return nil }
            words.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        }
        return words
    }
}
