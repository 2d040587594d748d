import Aggregator
import ConfigFile
import Hardware
import SimulatedStation
import Station
import Testing

/// Faults injected into the simulated world are what the aggregator's
/// quality score is there to catch: each shows in its own check, on the
/// faulty chip only, and a healthy chip in the same world scores full marks.
@Suite struct InjectedFaultQualityTests {
    struct NoSleep: Sleeper { func sleep(milliseconds: Double) {} }

    let start = 1_781_946_000.0 // 2026-06-21 09:00 UTC: the morning warms fast
    let board = Board(name: "raspberry-pi-4b", description: "Raspberry Pi 4 Model B", model: "Raspberry Pi 4 Model B",
                      gpioChip: "simulated", i2c: [.init(bus: 1, sdaPin: 3, sclPin: 5)], enableI2C: "dtparam=i2c_arm=on",
                      pins: [:], file: "boards/raspberry-pi-4b.yaml")

    /// An hour's epoch of temperatures from the BME280 (0x76) and the
    /// SHT4x (0x44), read every 30 s, each scored as the aggregator does.
    func scores(_ faults: [InjectedFault]) throws -> (bme280: QualityScore, sht4x: QualityScore) {
        let station = SimulatedStation(weather: false, sleeper: NoSleep(), environment: SimulatedEnvironment(name: "demo-1"), faults: faults)
        let factory = SensorFactory(hardware: station, board: board)
        let sensors = [SensorSpec(name: "air", driver: "bme280", bus: 1, address: 0x76), SensorSpec(name: "rh", driver: "sht4x", bus: 1, address: 0x44)]
            .map { ManagedSensor(spec: $0, factory: factory) }
        var samples: [[(at: Int64, value: Double)]] = [[], []]
        for step in 0..<120 {
            let time = start + Double(step) * 30
            station.update(atUnixSeconds: time)
            for (index, sensor) in sensors.enumerated() {
                guard case let .success(readings) = sensor.read(attempts: 1).result,
                      let kelvin = readings.first(where: { $0.quantity == "temperature" })?.value else { continue }
                samples[index].append((Int64(time * 1000), kelvin))
            }
        }
        func score(_ samples: [(at: Int64, value: Double)]) -> QualityScore {
            QualityScore.evaluate(samples: samples, quantity: "temperature", epochMilliseconds: 3_600_000, declaredIntervalMilliseconds: 30_000)
        }
        return (score(samples[0]), score(samples[1]))
    }

    func check(_ score: QualityScore, _ name: String) -> Double { score.checks.first { $0.name == name }?.value ?? -1 }

    @Test func aHealthyWorldScoresFullMarks() throws {
        let (bme280, sht4x) = try scores([])
        #expect(bme280.score > 0.999 && sht4x.score > 0.999, "\(bme280) \(sht4x)")
    }

    @Test func aStuckChipIsCaughtByNotStuck() throws {
        let (bme280, sht4x) = try scores([InjectedFault(.stuck, address: 0x76, start: start + 600, duration: 1200)])
        #expect(abs(check(bme280, "not_stuck") - (1 - 40.0 / 120)) < 0.02, "20 of 60 minutes frozen: \(bme280)")
        #expect(check(bme280, "completeness") == 1 && check(bme280, "validity") == 1)
        #expect(check(sht4x, "not_stuck") == 1 && sht4x.score > 0.999, "the healthy chip beside it")
    }

    @Test func aSpikeIsCaughtByNoJumps() throws {
        let (bme280, sht4x) = try scores([InjectedFault(.spike, address: 0x44, start: start + 900, duration: 60)])
        #expect(check(sht4x, "no_jumps") < 0.99, "up 15 °C and back: \(sht4x)")
        #expect(check(bme280, "no_jumps") == 1)
    }

    @Test func aDropoutIsCaughtByCompleteness() throws {
        let (bme280, sht4x) = try scores([InjectedFault(.dropout, address: 0x76, start: start + 1800, duration: 900)])
        #expect(abs(check(bme280, "completeness") - 0.75) < 0.02, "15 of 60 minutes without an answer: \(bme280)")
        #expect(check(sht4x, "completeness") == 1)
    }
}
