import Wire

/// What one read of one sensor gave.
public enum SensorOutcome: Equatable, Sendable {
    /// Readings as they go on the wire, named after the configured sensor.
    case readings([Telemetry.Reading])
    /// The sensor failed. `code` is its wire spelling (`no-ack`, `crc`, …:
    /// the raw value of `SensorError.Code`, listed in docs/wire-format.md).
    /// The typed code lives with the drivers, which this module may not
    /// import; the station decides retries by it before a failure gets here,
    /// and the agent only forwards the code into the message's statuses.
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

/// Everything a Telemetry message says, before it is encoded and signed.
public struct TelemetryDraft: Equatable, Sendable {
    public var serial: String
    public var sequence: UInt64
    /// Every sequence up to `floor` is settled: already sent, or never to be
    /// sent (skipped after a crash, dropped from a full spool). Lets the
    /// aggregator's "highest contiguous" move past gaps.
    public var floor: UInt64
    public var clock: ClockReading
    public var readings: [Telemetry.Reading]
    /// nil error code: the sensor read.
    public var statuses: [Telemetry.SensorStatus]
    /// The transparency log size the device holds (nil: it audits none).
    public var logSize: UInt64? = nil
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
