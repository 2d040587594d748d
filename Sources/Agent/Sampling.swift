/// One value a sensor measured, in SI units.
public struct SampledReading: Equatable, Sendable {
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

/// What one read of one sensor gave.
public enum SensorOutcome: Equatable, Sendable {
    case readings([SampledReading])
    /// The sensor failed; `code` is short and stable (`no-ack`, `crc`, …).
    case failure(code: String, message: String)
}

/// A configured sensor as the sampler sees it. Drivers are adapted to this
/// by the binary, so the agent does not depend on the driver modules.
public protocol SampledSensor: Sendable {
    var name: String { get }
    var driver: String { get }
    var interval: Duration { get }
    func sample() async -> SensorOutcome
}

/// The status of one sensor in one message.
public struct SensorStatusEntry: Equatable, Sendable {
    public var sensor: String
    /// nil: ok; otherwise the failure's short code.
    public var errorCode: String?

    public init(sensor: String, errorCode: String?) {
        self.sensor = sensor
        self.errorCode = errorCode
    }
}

/// Everything a Telemetry message says, before it is encoded and signed.
public struct TelemetryDraft: Equatable, Sendable {
    public var serial: String
    public var sequence: UInt64
    /// Every sequence up to `floor` is settled: already sent, or never to be
    /// sent (skipped after a crash, dropped from a full spool). Lets the
    /// aggregator's "highest contiguous" move past gaps.
    public var floor: UInt64
    public var clock: ClockReading
    public var readings: [SampledReading]
    public var statuses: [SensorStatusEntry]
}

/// Encodes and signs a draft (COSE_Sign1 Telemetry with the identity key).
public protocol TelemetrySigner: Sendable {
    /// The identity's key id, for status reports.
    var keyID: String { get }
    func sign(_ draft: TelemetryDraft) throws -> [UInt8]
}

/// Checks an acknowledgement from the aggregator (signature by the pinned
/// aggregator key, our serial) and returns the acknowledged sequence.
public protocol AckVerifier: Sendable {
    func acknowledgedSequence(in payload: [UInt8], serial: String) -> UInt64?
}
