import ArgumentParser
import Station
#if Simulation
import SimulatedStation
#endif

/// The simulated station for `simulate: true` and `--simulate`, where this
/// binary carries it: the Simulation trait (on by default) links it in; the
/// daemon installed on boards is built without it (scripts/build-daemon), so
/// it carries no simulated chips.
enum SimulatedHardwareAccess {
    static func station(gpioLabel: String) throws -> any HardwareAccess {
        #if Simulation
        return SimulatedStation(gpioLabel: gpioLabel)
        #else
        throw ValidationError("""
            this fieldproof was built without the simulated station (the installed daemon is built by \
            scripts/build-daemon without the Simulation trait): set `simulate: false` and configure real sensors, \
            or use a build with simulation (`swift build --product fieldproof`, or scripts/build-daemon --simulation)
            """)
        #endif
    }
}
