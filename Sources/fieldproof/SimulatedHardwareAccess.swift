import ArgumentParser
import ConfigFile
import Station
#if Simulation
import SimulatedStation
#endif

/// The simulated station for `simulate: true` and `--simulate`, where this
/// binary carries it: the Simulation trait (on by default) links it in; the
/// daemon installed on boards is built without it (scripts/build-daemon), so
/// it carries no simulated chips.
enum SimulatedHardwareAccess {
    /// The station's world is seeded by `seed` (the device's serial), so
    /// each simulated device has its own site and weather. Rain gauges and
    /// anemometers in `specs` get pulses from that weather.
    static func station(gpioLabel: String, seed: String, specs: [SensorSpec], board: Board) throws -> any HardwareAccess {
        #if Simulation
        let station = SimulatedStation(gpioLabel: gpioLabel, environment: SimulatedEnvironment(name: seed))
        for spec in specs {
            let role: PulseRole? = spec.driver == "rain-gauge" ? .rain : spec.driver == "anemometer" ? .wind : nil
            guard let role, let line = spec.line ?? spec.pin.flatMap({ try? board.line(forPin: $0) }) else { continue }
            station.drive(line: line, as: role)
        }
        return station
        #else
        throw ValidationError("""
            this fieldproof was built without the simulated station (the installed daemon is built by \
            scripts/build-daemon without the Simulation trait): set `simulate: false` and configure real sensors, \
            or use a build with simulation (`swift build --product fieldproof`, or scripts/build-daemon --simulation)
            """)
        #endif
    }
}
