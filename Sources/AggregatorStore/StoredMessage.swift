import Aggregator
import Wire

/// What the store keeps of one accepted Telemetry message: the bytes as
/// received (what epochs hash), the numbers its tallies are made of, and
/// where it belongs in time.
public struct StoredMessage: AcceptedMessageProtocol, Sendable {
    public struct Reading: Equatable, Sendable {
        /// `sensor/quantity`, e.g. `air/temperature`.
        public var metric: String
        public var unit: String
        public var value: Double

        public init(metric: String, unit: String, value: Double) {
            self.metric = metric
            self.unit = unit
            self.value = value
        }
    }

    public var serial: String
    public var sequence: UInt64
    /// Every sequence up to here is settled on the device (see Telemetry).
    public var floor: UInt64
    public var raw: [UInt8]
    public var hash: [UInt8]
    /// The device's timestamp (Unix ms): which epoch the readings count in
    /// when the device's clock was synchronised.
    public var timestamp: Int64
    public var receivedAt: Int64
    public var readings: [Reading]
    /// false: `timestamp` is the device's guess (no RTC, no NTP yet); the
    /// store re-times the message from `bootID` + `millisecondsSinceBoot`
    /// once a synchronised message of the same boot anchors that boot.
    public var clockSynchronised: Bool
    public var bootID: [UInt8]
    public var millisecondsSinceBoot: Int64

    public init(serial: String, sequence: UInt64, floor: UInt64, raw: [UInt8], hash: [UInt8], timestamp: Int64, receivedAt: Int64,
                readings: [Reading], clockSynchronised: Bool = true, bootID: [UInt8] = [], millisecondsSinceBoot: Int64 = 0) {
        self.serial = serial
        self.sequence = sequence
        self.floor = floor
        self.raw = raw
        self.hash = hash
        self.timestamp = timestamp
        self.receivedAt = receivedAt
        self.readings = readings
        self.clockSynchronised = clockSynchronised
        self.bootID = bootID
        self.millisecondsSinceBoot = millisecondsSinceBoot
    }

    /// From the verifier's accepted message.
    public init(_ verified: VerifiedTelemetry, receivedAt: Int64) {
        let telemetry = verified.telemetry
        self.init(serial: telemetry.serial, sequence: telemetry.sequence, floor: telemetry.floor, raw: verified.raw, hash: verified.hash,
                  timestamp: Int64(clamping: telemetry.timestamp), receivedAt: receivedAt,
                  readings: telemetry.readings.map { Reading(metric: "\($0.sensor)/\($0.quantity)", unit: $0.unit, value: $0.value) },
                  clockSynchronised: telemetry.clockSynchronised, bootID: telemetry.bootID,
                  millisecondsSinceBoot: Int64(clamping: telemetry.millisecondsSinceBoot))
    }
}
