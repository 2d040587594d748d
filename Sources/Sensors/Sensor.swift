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
