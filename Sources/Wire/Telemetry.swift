/// One Telemetry message: the readings of one tick, signed by the device.
/// Schema (CBOR map, integer keys) in docs/wire-format.md.
public struct Telemetry: Equatable, Sendable {
    public struct Reading: Equatable, Sendable {
        public var sensor: String
        public var quantity: String
        public var value: Double
        public var unit: String

        public init(sensor: String, quantity: String, value: Double, unit: String) {
            self.sensor = sensor
            self.quantity = quantity
            self.value = value
            self.unit = unit
        }
    }

    public struct SensorStatus: Equatable, Sendable {
        public var sensor: String
        /// nil: ok; otherwise a short error code (`no-ack`, `crc`, `range`…).
        public var errorCode: String?

        public init(sensor: String, errorCode: String?) {
            self.sensor = sensor
            self.errorCode = errorCode
        }
    }

    public static let maximumReadings = 256

    public var serial: String
    public var sequence: UInt64
    /// Every sequence ≤ floor is settled: sent already, or never to be sent.
    public var floor: UInt64
    public var timestamp: UInt64
    public var clockSynchronised: Bool
    public var bootID: [UInt8]
    public var millisecondsSinceBoot: UInt64
    public var readings: [Reading]
    public var statuses: [SensorStatus]
    /// The size of the transparency log's newest checkpoint the device has
    /// verified (nil: it audits no log): the aggregator's next LogReceipt
    /// proves consistency from there.
    public var logSize: UInt64?

    public init(serial: String, sequence: UInt64, floor: UInt64, timestamp: UInt64, clockSynchronised: Bool, bootID: [UInt8],
                millisecondsSinceBoot: UInt64, readings: [Reading], statuses: [SensorStatus], logSize: UInt64? = nil) {
        self.serial = serial
        self.sequence = sequence
        self.floor = floor
        self.timestamp = timestamp
        self.clockSynchronised = clockSynchronised
        self.bootID = bootID
        self.millisecondsSinceBoot = millisecondsSinceBoot
        self.readings = readings
        self.statuses = statuses
        self.logSize = logSize
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.telemetry)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .unsigned(sequence)),
            CBORPair(.int(4), .unsigned(floor)),
            CBORPair(.int(5), .unsigned(timestamp)),
            CBORPair(.int(6), .bool(clockSynchronised)),
            CBORPair(.int(7), .bytes(bootID)),
            CBORPair(.int(8), .unsigned(millisecondsSinceBoot)),
            CBORPair(.int(9), .array(readings.map { .array([.text($0.sensor), .text($0.quantity), .float($0.value), .text($0.unit)]) })),
            CBORPair(.int(10), .array(statuses.map { .array([.text($0.sensor), $0.errorCode.map(CBOR.text) ?? .null]) })),
        ] + (logSize.map { [CBORPair(.int(11), .unsigned($0))] } ?? [])))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = try MessageReader(bytes, type: MessageType.telemetry, name: "Telemetry")
        var serial: String?, sequence: UInt64?, floor: UInt64?, timestamp: UInt64?, clockSynchronised: Bool?
        var bootID: [UInt8]?, millisecondsSinceBoot: UInt64?, readings: [Reading]?, statuses: [SensorStatus]?, logSize: UInt64?
        while let key = try reader.nextKey() {
            switch key {
            case 2: serial = try reader.text(2, "serial", maximum: 64)
            case 3: sequence = try reader.uint(3, "sequence")
            case 4: floor = try reader.uint(4, "floor")
            case 5: timestamp = try reader.uint(5, "timestamp")
            case 6: clockSynchronised = try reader.bool(6, "clock synchronised")
            case 7: bootID = try reader.bytes(7, "boot id", count: 16)
            case 8: millisecondsSinceBoot = try reader.uint(8, "milliseconds since boot")
            case 9: readings = try Self.readings(&reader)
            case 10: statuses = try Self.statuses(&reader)
            case 11: logSize = try reader.uint(11, "log size")
            default: try reader.skip(depth: 1)
            }
        }
        guard let serial else { throw reader.missing(2, "serial") }
        guard Serial.isValid(serial) else { throw .malformed("serial \"\(serial)\" has characters other than letters, digits, '-' and '_'") }
        guard let sequence else { throw reader.missing(3, "sequence") }
        guard let floor else { throw reader.missing(4, "floor") }
        guard floor < sequence else { throw .malformed("floor \(floor) must be below the sequence \(sequence)") }
        guard let timestamp else { throw reader.missing(5, "timestamp") }
        guard let clockSynchronised else { throw reader.missing(6, "clock synchronised") }
        guard let bootID else { throw reader.missing(7, "boot id") }
        guard let millisecondsSinceBoot else { throw reader.missing(8, "milliseconds since boot") }
        guard let readings else { throw reader.missing(9, "readings") }
        guard let statuses else { throw reader.missing(10, "sensor statuses") }
        self.init(serial: serial, sequence: sequence, floor: floor, timestamp: timestamp, clockSynchronised: clockSynchronised, bootID: bootID,
                  millisecondsSinceBoot: millisecondsSinceBoot, readings: readings, statuses: statuses, logSize: logSize)
    }

    private static func readings(_ reader: inout MessageReader) throws(WireError) -> [Reading] {
        let count = try reader.arrayCount(9, "readings", maximum: maximumReadings)
        var readings: [Reading] = []
        readings.reserveCapacity(count)
        for _ in 0..<count {
            guard case .array(4) = try reader.token(depth: 2),
                  case let .text(sensor) = try reader.token(depth: 3), sensor.utf8.count <= 64,
                  case let .text(quantity) = try reader.token(depth: 3), quantity.utf8.count <= 64 else {
                throw .malformed("a reading must be [sensor, quantity, value, unit]")
            }
            let value: Double
            switch try reader.token(depth: 3) {
            case let .float(number): value = number
            case let .unsigned(number) where number <= UInt64(Int64.max): value = Double(Int64(number))
            case let .negative(number) where number <= UInt64(Int64.max): value = Double(-1 - Int64(number))
            default: throw .malformed("a reading's value must be a number")
            }
            guard case let .text(unit) = try reader.token(depth: 3), unit.utf8.count <= 32 else {
                throw .malformed("a reading must be [sensor, quantity, value, unit]")
            }
            readings.append(Reading(sensor: sensor, quantity: quantity, value: value, unit: unit))
        }
        return readings
    }

    private static func statuses(_ reader: inout MessageReader) throws(WireError) -> [SensorStatus] {
        let count = try reader.arrayCount(10, "sensor statuses", maximum: maximumReadings)
        var statuses: [SensorStatus] = []
        statuses.reserveCapacity(count)
        for _ in 0..<count {
            guard case .array(2) = try reader.token(depth: 2), case let .text(sensor) = try reader.token(depth: 3), sensor.utf8.count <= 64 else {
                throw .malformed("a sensor status must be [sensor, error code or null]")
            }
            switch try reader.token(depth: 3) {
            case .null: statuses.append(SensorStatus(sensor: sensor, errorCode: nil))
            case let .text(code) where code.utf8.count <= 32: statuses.append(SensorStatus(sensor: sensor, errorCode: code))
            default: throw .malformed("a sensor status code must be short text or null")
            }
        }
        return statuses
    }
}
