import Agent
import Dispatch
import Station
import Wire

/// A configured sensor as the daemon's sampler sees it. Reads block (a
/// conversion takes up to 180 ms), so they run on a Dispatch queue, not on
/// Swift's cooperative threads. This is where a driver's `SensorReading`
/// becomes the wire's `Telemetry.Reading` (the configured name added, the
/// out-of-range flag left behind: the wire has no field for it) and a
/// `SensorError.Code` its wire spelling.
struct StationSampledSensor: SampledSensor {
    let sensor: ManagedSensor
    var interval: Duration { sensor.spec.interval }
    var name: String { sensor.spec.name }
    var driver: String { sensor.spec.driver }

    func sample() async -> SensorOutcome {
        let result = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: sensor.read()) }
        }
        switch result.result {
        case let .success(readings):
            return .readings(readings.map { Telemetry.Reading(sensor: name, quantity: $0.quantity, value: $0.value, unit: $0.unit) })
        case let .failure(error):
            return .failure(code: error.code.rawValue, message: error.message)
        }
    }
}
