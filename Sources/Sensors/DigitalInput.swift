import Hardware

/// A contact on a GPIO input (tamper switch, door contact): reads 1 when
/// active, 0 when not. `activeLow` for a switch to ground with a pull-up,
/// the usual wiring.
public final class DigitalInput: Sensor {
    public let name: String
    public var driver: String { "digital-input" }
    public let quantity: String
    private let line: any GPIOInputLine
    private let activeLow: Bool

    public init(name: String, line: any GPIOInputLine, activeLow: Bool = true, quantity: String = "state") {
        self.name = name
        self.line = line
        self.activeLow = activeLow
        self.quantity = quantity
    }

    deinit { line.release() }

    public func close() { line.release() }

    public func read() throws(SensorError) -> [SensorReading] {
        let high: Bool
        do { high = try line.value() } catch { throw SensorError(code: .gpio, message: "\(name) (digital-input): \(error)") }
        return [SensorReading(quantity: quantity, value: high != activeLow ? 1 : 0, unit: "1")]
    }
}
