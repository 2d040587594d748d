import Agent
import ArgumentParser
import ConfigFile
import Identity
import LinuxService
import Logging
import Station

/// `fieldproof run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: sample, sign, spool and publish until stopped.",
        discussion: """
            SIGHUP reloads the configuration (an invalid one is logged and the running one kept); \
            SIGTERM stops sampling, drains the spool to the broker for up to --drain-timeout seconds, \
            and exits 0 with whatever is unsent still spooled. Configuration errors exit 78 (EX_CONFIG).

            Examples:
              fieldproof run
              fieldproof run --config /etc/fieldproof/agent.yaml
            """
    )

    @Option(help: "The configuration file.")
    var config = "/etc/fieldproof/agent.yaml"

    @Option(help: "The directory of board files.")
    var boards: String?

    @Option(help: "Seconds SIGTERM waits for the spool to drain.")
    var drainTimeout = 10

    /// One running configuration: its runtime and the sensors it holds.
    struct Running {
        var runtime: AgentRuntime<ContinuousClock>
        var sensors: SensorSet
    }

    func run() async throws {
        // One malloc arena instead of up to 8 per core, whose fragmentation
        // the long runs showed growing (docs/performance.md, "Device daemon
        // memory"): capped in `Fieldproof.main`, before any thread starts.
        let configuration = try StationContext.loadConfiguration(config)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            return handler
        }
        var logger = Logger(label: "fieldproof")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let signals = SignalEvents()
        var current = configuration
        var running: Running
        do {
            running = try start(configuration, logger: logger)
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandleText.standardError("fieldproof: \(error)")
            throw ExitCode(1)
        }
        for await signal in signals.events {
            switch signal {
            case .hangUp:
                let next: AgentConfiguration
                do {
                    next = try StationContext.parseConfiguration(config)
                } catch {
                    logger.error("SIGHUP: the new configuration is invalid, keeping the running one: \(error)")
                    continue
                }
                logger.info("SIGHUP: reloading \(config)")
                await running.runtime.stop(drainTimeout: .seconds(2))
                running.sensors.close()
                do {
                    running = try start(next, logger: logger)
                    current = next
                } catch {
                    logger.error("SIGHUP: cannot start with the new configuration (\(error)); restarting with the running one")
                    running = try start(current, logger: logger)
                }
            case .terminate, .interrupt:
                logger.info("stopping: draining the spool for up to \(drainTimeout) s")
                await running.runtime.stop(drainTimeout: .seconds(drainTimeout))
                running.sensors.close()
                return
            }
        }
    }

    func start(_ configuration: AgentConfiguration, logger: Logger) throws -> Running {
        let station = try StationContext.make(configuration: configuration, simulate: configuration.simulate, board: nil, boards: boards)
        let sensors = SensorSet(specs: station.specs, factory: SensorFactory(hardware: station.hardware, board: station.board))
        let sampled = sensors.sensors.map(StationSampledSensor.init)

        let identity = try PairedIdentity.load(from: configuration.stateDirectory)
        if let identity, identity.serial != configuration.serial {
            throw ValidationError("\(PairedIdentity.path(in: configuration.stateDirectory)) belongs to device \(identity.serial), but \(configuration.file) says serial \(configuration.serial): fix the serial or pair this device again")
        }
        let runtime = try AgentRuntime(configuration: configuration, dependencies: .init(
            sensors: sampled,
            signer: identity.map(IdentityTelemetrySigner.init),
            ackVerifier: identity.map { PinnedAckVerifier(aggregatorKey: $0.aggregatorKey) },
            board: station.board.name, version: FieldproofVersion.string, clock: configuration.clock.deviceClock(), logger: logger,
            logVerifier: configuration.log.audit ? identity.map { PinnedLogReceiptVerifier(identity: $0, log: configuration.log) } : nil))
        runtime.start()
        logger.info("started", metadata: ["serial": "\(configuration.serial)", "board": "\(station.board.name)",
                                          "hardware": "\(station.hardware.kind)", "sensors": "\(sampled.count)",
                                          "paired": "\(identity != nil)"])
        return Running(runtime: runtime, sensors: sensors)
    }
}
