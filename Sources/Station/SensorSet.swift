import ConfigFile
import Sensors
import Synchronization

/// The outcome of reading one sensor once.
public struct SensorResult: Sendable {
    public var name: String
    public var driver: String
    public var result: Result<[SensorReading], SensorError>
    /// Bus attempts it took (1 when the first worked).
    public var attempts: Int
}

/// One configured sensor whose driver is made on first use and made again
/// after the chip stopped answering, so a sensor unplugged and plugged back
/// in comes back by itself, and one that is missing at start does not stop
/// the others.
public final class ManagedSensor: Sendable {
    public let spec: SensorSpec
    private let factory: SensorFactory
    private let driver = Mutex<(any Sensor)?>(nil)

    public init(spec: SensorSpec, factory: SensorFactory) {
        self.spec = spec
        self.factory = factory
    }

    /// Reads once, trying a transient failure (`SensorError.Code.isTransient`)
    /// up to `attempts` times.
    public func read(attempts: Int = 2) -> SensorResult {
        var tries = 0
        while true {
            tries += 1
            let result = readOnce()
            if case let .failure(error) = result, error.code.isTransient, tries < attempts { continue }
            return SensorResult(name: spec.name, driver: spec.driver, result: result, attempts: tries)
        }
    }

    /// Closes the driver (releasing GPIO lines and threads) for good.
    public func close() {
        driver.withLock { driver in
            driver?.close()
            driver = nil
        }
    }

    private func readOnce() -> Result<[SensorReading], SensorError> {
        driver.withLock { driver in
            do throws(SensorError) {
                let sensor: any Sensor
                if let existing = driver {
                    sensor = existing
                } else {
                    sensor = try factory.make(spec)
                    driver = sensor
                }
                return .success(try sensor.read())
            } catch {
                if error.code.needsRedetection {
                    driver?.close()
                    driver = nil
                }
                return .failure(error)
            }
        }
    }
}

/// All configured sensors of a station.
public struct SensorSet: Sendable {
    public let sensors: [ManagedSensor]

    public init(specs: [SensorSpec], factory: SensorFactory) {
        sensors = specs.map { ManagedSensor(spec: $0, factory: factory) }
    }

    /// Reads each once, in order; a failing one is reported and the rest go on.
    public func readAll(attempts: Int = 2) -> [SensorResult] {
        sensors.map { $0.read(attempts: attempts) }
    }

    public func close() {
        for sensor in sensors { sensor.close() }
    }
}
