extension SensorError {
    /// What kind of failure it was. The raw value is short and stable: it
    /// travels unchanged as the sensor's status in Telemetry (key 10; the
    /// list is in docs/wire-format.md, and a test keeps the two equal), so a
    /// case is never renamed, only added.
    public enum Code: String, CaseIterable, Equatable, Sendable, CustomStringConvertible {
        /// The chip did not acknowledge its address or a byte (ENXIO, ENODEV).
        case noAcknowledge = "no-ack"
        /// `/dev/i2c-N` does not exist.
        case noBus = "no-bus"
        /// The bus device exists but may not be opened (group, udev rule).
        case permission
        /// The adapter cannot do what the driver needs (no I2C_RDWR, no SMBus call).
        case unsupported
        /// Any other bus fault: arbitration lost, EIO, a timeout.
        case bus
        /// A Sensirion word's CRC did not match, attempt after attempt.
        case crc
        /// Something answers at the address, but not the configured chip.
        case wrongChip = "wrong-chip"
        /// The chip has no new measurement yet (SCD4x: one every 5 s).
        case notReady = "not-ready"
        /// A conversion did not finish in its time.
        case busy
        /// The chip answered with its "measurement skipped" value.
        case noData = "no-data"
        /// The sensor's entry in the configuration is wrong (an option, a pin).
        case config
        /// The GPIO chip or line could not be requested or read.
        case gpio
        /// No such thermal zone in sysfs.
        case noZone = "no-zone"
        /// A sysfs file could not be read.
        case io
        /// A sysfs file held something that is not a value.
        case badValue = "bad-value"

        /// The wire spelling, so a message or a log line shows `no-ack`, not
        /// the case name.
        public var description: String { rawValue }

        /// Worth another try within the same read: a glitch on the wire that
        /// the next transaction may not meet. A wrong configuration, a missing
        /// bus or chip, fails the same way every time and is not retried.
        public var isTransient: Bool {
            switch self {
            case .bus, .crc, .noAcknowledge: true
            case .noBus, .permission, .unsupported, .wrongChip, .notReady, .busy, .noData, .config, .gpio, .noZone, .io, .badValue: false
            }
        }

        /// After this failure the driver is closed and the chip detected
        /// afresh on the next read: it may have been unplugged, replaced or
        /// power-cycled (and lost its configuration), or its bus may come back.
        public var needsRedetection: Bool {
            switch self {
            case .bus, .noAcknowledge, .wrongChip, .noBus: true
            case .permission, .unsupported, .crc, .notReady, .busy, .noData, .config, .gpio, .noZone, .io, .badValue: false
            }
        }
    }
}
