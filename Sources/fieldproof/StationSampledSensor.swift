import Agent
import Dispatch
import Station

/// A configured sensor as the daemon's sampler sees it. Reads block (a
/// conversion takes up to 180 ms), so they run on a Dispatch queue, not on
/// Swift's cooperative threads.
struct StationSampledSensor: SampledSensor {
    let sensor: ManagedSensor
    let interval: Duration
    var name: String { sensor.spec.name }
    var driver: String { sensor.spec.driver }

    func sample() async -> SensorOutcome {
        let result = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: sensor.read()) }
        }
        switch result.result {
        case let .success(readings):
            return .readings(readings.map { SampledReading(sensor: name, quantity: $0.quantity, value: $0.value, unit: $0.unit) })
        case let .failure(error):
            return .failure(code: error.code, message: error.message)
        }
    }
}
