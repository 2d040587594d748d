import ArgumentParser
import ConfigFile
import Foundation
import Hardware
import Sensors
import SimulatedHardware
import SimulatedStation
import Station

/// Each driver against the simulated station (no waiting): reads/s and bus
/// transactions per read, beside a baseline that replays the same bus
/// transactions without the driver, so the ratio is the driver's own cost.
struct SensorBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sensors", abstract: "Driver reads/s against the simulator, beside a raw bus replay.")

    @Option(help: "Reads per driver.") var count = 20_000

    struct NoSleep: Sleeper { func sleep(milliseconds: Double) {} }

    func run() throws {
        let station = SimulatedStation(weather: false, sleeper: NoSleep())
        let board = Board(name: "bench", description: "bench", model: "", gpioChip: "simulated", i2c: [.init(bus: 1)],
                          enableI2C: "", pins: [:], file: "")
        let factory = SensorFactory(hardware: station, board: board)
        print("driver       reads/s    transactions/read  replay reads/s  ratio")
        for spec in [SensorSpec(name: "bme280", driver: "bme280", address: 0x76), SensorSpec(name: "sht4x", driver: "sht4x", address: 0x44),
                     SensorSpec(name: "sht3x", driver: "sht3x", address: 0x45), SensorSpec(name: "scd4x", driver: "scd4x"),
                     SensorSpec(name: "bh1750", driver: "bh1750"), SensorSpec(name: "ads1115", driver: "ads1115", options: ["channels": "0,1,2,3"]),
                     SensorSpec(name: "ina219", driver: "ina219", address: 0x40), SensorSpec(name: "ina260", driver: "ina260", address: 0x41),
                     SensorSpec(name: "sps30", driver: "sps30"), SensorSpec(name: "veml7700", driver: "veml7700"),
                     SensorSpec(name: "bme680", driver: "bme680", bus: 2, address: 0x77)] {
            let sensor = try factory.make(spec)
            // One read on a recording bus gives the transactions a read costs
            // (the BME680 sits on the simulated station's bus 2).
            let base = spec.bus == 2 ? station.bus2 : station.bus
            let recording = RecordingI2CBus(base)
            var recorded = spec
            recorded.name += "-recorded"
            let recordingFactory = SensorFactory(hardware: RecordingStation(station: station, bus: recording), board: board)
            let probe = try recordingFactory.make(recorded)
            let before = recording.steps.count
            _ = try probe.read()
            let steps = Array(recording.steps[before...])

            let driverSeconds = try time { for _ in 0..<count { _ = try sensor.read() } }
            let replaySeconds = try time {
                for _ in 0..<count {
                    for step in steps { _ = try base.transaction(address: step.address, step.operations) }
                }
            }
            let rate = Double(count) / driverSeconds
            let replay = Double(count) / replaySeconds
            print(spec.driver.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + " \(Int(rate))".padding(toLength: 11, withPad: " ", startingAt: 0)
                  + " \(steps.count)".padding(toLength: 19, withPad: " ", startingAt: 0)
                  + " \(Int(replay))".padding(toLength: 16, withPad: " ", startingAt: 0)
                  + " " + String(format: "%.2f", rate / replay))
        }
    }

    func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// The simulated station seen through a recording bus.
struct RecordingStation: HardwareAccess {
    let station: SimulatedStation
    let bus: RecordingI2CBus
    var kind: String { "simulated" }
    func i2cBus(_ number: Int) throws(I2CError) -> any I2CBus { bus }
    func gpioChip(_ descriptor: String) throws(GPIOError) -> any GPIOChip { try station.gpioChip(descriptor) }
    var thermalRoot: String { station.thermalRoot }
    var sleeper: any Sleeper { station.sleeper }
}
