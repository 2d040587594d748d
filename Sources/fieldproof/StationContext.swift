import Agent
import ArgumentParser
import ConfigFile
import Sensors
import Station
#if canImport(Glibc)
import Glibc
#endif

/// Options the hardware commands share.
struct StationOptions: ParsableArguments {
    @Option(help: "The daemon's configuration (sensors, board).")
    var config = "/etc/fieldproof/agent.yaml"

    @Flag(help: "Use the simulated station (one of each supported chip on bus 1) instead of this machine's hardware.")
    var simulate = false

    @Option(help: "The board file to use (`auto` detects it from /proc/device-tree/model).")
    var board: String?

    @Option(help: "The directory of board files.")
    var boards: String?
}

/// What the hardware commands work on: the board, the hardware (real or
/// simulated), and the configured sensors.
struct StationContext {
    var board: Board
    var hardware: any HardwareAccess
    var specs: [SensorSpec]
    /// nil when no configuration file was read.
    var configuration: AgentConfiguration?

    /// The sensors `--simulate` reads when there is no configuration file:
    /// one of each kind the simulated station has.
    static let simulatedSensors = [
        SensorSpec(name: "air", driver: "bme280", bus: 1, address: 0x76),
        SensorSpec(name: "humidity", driver: "sht4x", bus: 1, address: 0x44),
        SensorSpec(name: "gas", driver: "bme680", bus: 2, address: 0x77),
        SensorSpec(name: "light", driver: "bh1750", bus: 1, address: 0x23),
        SensorSpec(name: "ambient", driver: "veml7700", bus: 1, address: 0x10),
        SensorSpec(name: "co2", driver: "scd4x", bus: 1, address: 0x62),
        SensorSpec(name: "pm", driver: "sps30", bus: 1, address: 0x69),
        SensorSpec(name: "soil", driver: "ads1115", bus: 1, address: 0x48, options: ["channels": "0,1"]),
        SensorSpec(name: "battery", driver: "ina219", bus: 1, address: 0x40, options: ["shunt_ohms": "0.1"]),
        SensorSpec(name: "supply", driver: "ina260", bus: 1, address: 0x41),
        SensorSpec(name: "probe", driver: "ds18b20", options: ["rom": "28-0316a2796aff"]),
        SensorSpec(name: "kernel", driver: "hwmon", options: ["device": "sht3x"]),
        SensorSpec(name: "iio", driver: "iio", options: ["device": "bme280"]),
        SensorSpec(name: "iio-adc", driver: "iio", options: ["device": "iio:device1", "channels": "voltage0,temp"]),
        SensorSpec(name: "rain", driver: "rain-gauge", pin: 11),
        SensorSpec(name: "board", driver: "board-temperature"),
    ]

    static func load(_ options: StationOptions, requireConfiguration: Bool) throws -> StationContext {
        var configuration: AgentConfiguration?
        if access(options.config, F_OK) == 0 || requireConfiguration && !options.simulate {
            configuration = try loadConfiguration(options.config)
        }
        return try make(configuration: configuration, simulate: options.simulate || configuration?.simulate == true,
                        board: options.board, boards: options.boards)
    }

    static func make(configuration: AgentConfiguration?, simulate: Bool, board setting: String?, boards: String?) throws -> StationContext {
        let catalog = try BoardCatalog.load(directory: boards ?? BoardCatalog.defaultDirectory())
        let board: Board
        do {
            let setting = setting ?? configuration?.board ?? "auto"
            // The simulator is a Raspberry Pi 4's header unless told otherwise.
            board = try catalog.select(simulate && setting == "auto" ? "raspberry-pi-4b" : setting)
        } catch {
            throw ValidationError(error.description)
        }
        let specs = configuration?.sensors ?? (simulate ? simulatedSensors : [])
        let hardware: any HardwareAccess = simulate
            ? try SimulatedHardwareAccess.station(gpioLabel: board.gpioChip, seed: configuration?.serial ?? "simulated", specs: specs, board: board)
            : LinuxHardware()
        return StationContext(board: board, hardware: hardware, specs: specs, configuration: configuration)
    }

    /// Reads and validates the configuration; on an error prints it (file,
    /// line, column, fix) and exits 78 (EX_CONFIG).
    static func loadConfiguration(_ path: String) throws -> AgentConfiguration {
        do {
            return try parseConfiguration(path)
        } catch let error as ConfigError {
            FileHandleText.standardError("fieldproof: \(error)")
            throw ExitCode(ConfigError.exitCode)
        }
    }

    static func parseConfiguration(_ path: String) throws -> AgentConfiguration {
        let text = try TextFile.read(path, hint: "pass --config, or --simulate to use the simulated station")
        return try AgentConfiguration.parse(text, file: path, knownDrivers: SensorFactory.driverNames)
    }
}
