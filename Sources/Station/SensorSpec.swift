import Sensors

/// One configured sensor, as the agent config's `sensors:` entries give it.
public struct SensorSpec: Equatable, Sendable {
    public var name: String
    public var driver: String
    public var bus: Int?
    public var address: Int?
    public var chip: String?
    public var line: Int?
    public var pin: Int?
    public var options: [String: String]
    /// Where the entry is, so errors found when the sensor is set up point at it.
    public var file: String
    public var lineNumber: Int

    public init(name: String, driver: String, bus: Int? = nil, address: Int? = nil, chip: String? = nil, line: Int? = nil,
                pin: Int? = nil, options: [String: String] = [:], file: String = "<built-in>", lineNumber: Int = 0) {
        self.name = name
        self.driver = driver
        self.bus = bus
        self.address = address
        self.chip = chip
        self.line = line
        self.pin = pin
        self.options = options
        self.file = file
        self.lineNumber = lineNumber
    }

    /// `agent.yaml:42: sensor "rain": …`
    func problem(_ message: String) -> SensorError {
        SensorError(code: "config", message: "\(file):\(lineNumber): sensor \"\(name)\" (\(driver)): \(message)")
    }
}
