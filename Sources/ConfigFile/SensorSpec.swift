/// One configured sensor: an entry of the agent configuration's `sensors:`.
///
/// The one type for a sensor's configuration. `AgentConfiguration.parse`
/// (Agent) makes it, `SensorFactory` (Station) makes a driver of it, and the
/// daemon samples it at `interval`. It lives here because both of those
/// modules import `ConfigFile` and neither may import the other (the
/// daemon's machinery stays free of drivers and buses; the station of MQTT).
public struct SensorSpec: Equatable, Sendable {
    public var name: String
    public var driver: String
    public var bus: Int?
    public var address: Int?
    /// GPIO: a chip (name, label or path) and a line offset or header pin.
    public var chip: String?
    public var line: Int?
    public var pin: Int?
    /// How often the daemon reads it.
    public var interval: Duration
    public var options: [String: String]
    /// Where the entry starts, so errors found when the sensor is set up
    /// (driver options, pins) point at it.
    public var file: String
    public var lineNumber: Int

    public init(name: String, driver: String, bus: Int? = nil, address: Int? = nil, chip: String? = nil, line: Int? = nil,
                pin: Int? = nil, interval: Duration = .seconds(10), options: [String: String] = [:], file: String = "<built-in>",
                lineNumber: Int = 0) {
        self.name = name
        self.driver = driver
        self.bus = bus
        self.address = address
        self.chip = chip
        self.line = line
        self.pin = pin
        self.interval = interval
        self.options = options
        self.file = file
        self.lineNumber = lineNumber
    }
}
