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

    public init(serial: String, sequence: UInt64, floor: UInt64, timestamp: UInt64, clockSynchronised: Bool, bootID: [UInt8],
                millisecondsSinceBoot: UInt64, readings: [Reading], statuses: [SensorStatus]) {
        self.serial = serial
        self.sequence = sequence
        self.floor = floor
        self.timestamp = timestamp
        self.clockSynchronised = clockSynchronised
        self.bootID = bootID
        self.millisecondsSinceBoot = millisecondsSinceBoot
        self.readings = readings
        self.statuses = statuses
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
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("Telemetry payload: \(error)") }
        let fields = try MessageFields(item, type: MessageType.telemetry, name: "Telemetry")
        serial = try fields.text(2, "serial", maximum: 64)
        guard Serial.isValid(serial) else { throw .malformed("serial \"\(serial)\" has characters other than letters, digits, '-' and '_'") }
        sequence = try fields.uint(3, "sequence")
        floor = try fields.uint(4, "floor")
        guard floor < sequence else { throw .malformed("floor \(floor) must be below the sequence \(sequence)") }
        timestamp = try fields.uint(5, "timestamp")
        clockSynchronised = try fields.bool(6, "clock synchronised")
        bootID = try fields.bytes(7, "boot id", count: 16...16)
        millisecondsSinceBoot = try fields.uint(8, "milliseconds since boot")
        var readings: [Reading] = []
        for entry in try fields.array(9, "readings", maximum: Self.maximumReadings) {
            guard let parts = entry.array, parts.count == 4, let sensor = parts[0].text, let quantity = parts[1].text, let unit = parts[3].text,
                  sensor.utf8.count <= 64, quantity.utf8.count <= 64, unit.utf8.count <= 32 else {
                throw .malformed("a reading must be [sensor, quantity, value, unit]")
            }
            let value: Double
            switch parts[2] {
            case let .float(number): value = number
            case let number where number.int64 != nil: value = Double(number.int64 ?? 0)
            default: throw .malformed("a reading's value must be a number")
            }
            readings.append(Reading(sensor: sensor, quantity: quantity, value: value, unit: unit))
        }
        self.readings = readings
        var statuses: [SensorStatus] = []
        for entry in try fields.array(10, "sensor statuses", maximum: Self.maximumReadings) {
            guard let parts = entry.array, parts.count == 2, let sensor = parts[0].text, sensor.utf8.count <= 64 else {
                throw .malformed("a sensor status must be [sensor, error code or null]")
            }
            switch parts[1] {
            case .null: statuses.append(SensorStatus(sensor: sensor, errorCode: nil))
            case let .text(code) where code.utf8.count <= 32: statuses.append(SensorStatus(sensor: sensor, errorCode: code))
            default: throw .malformed("a sensor status code must be short text or null")
            }
        }
        self.statuses = statuses
    }
}
