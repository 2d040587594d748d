import ConfigFile
import Hardware
import Sensors
import SimulatedHardware
import SimulatedStation
import Station
import Testing

/// Sleeps nothing: the simulated chips are ready at once.
struct NoSleep: Sleeper {
    func sleep(milliseconds: Double) {}
}

@Suite struct SensorSetTests {
    let board = Board(name: "raspberry-pi-4b", description: "Raspberry Pi 4 Model B", model: "Raspberry Pi 4 Model B",
                      gpioChip: "simulated", i2c: [.init(bus: 1, sdaPin: 3, sclPin: 5)], enableI2C: "dtparam=i2c_arm=on",
                      pins: [11: 17, 13: 27, 15: 22], file: "boards/raspberry-pi-4b.yaml")

    func station() -> SimulatedStation { SimulatedStation(weather: false, sleeper: NoSleep()) }

    @Test func everyDriverReadsFromTheSimulatedStation() throws {
        let station = station()
        let factory = SensorFactory(hardware: station, board: board)
        let specs = [
            SensorSpec(name: "air", driver: "bme280", bus: 1, address: 0x76),
            SensorSpec(name: "baro", driver: "bmp280", bus: 1, address: 0x77),
            SensorSpec(name: "sht4", driver: "sht4x", address: 0x44),
            SensorSpec(name: "sht3", driver: "sht3x", address: 0x45),
            SensorSpec(name: "co2", driver: "scd4x"),
            SensorSpec(name: "pm", driver: "sps30", options: ["fan_cleaning_interval": "86400"]),
            SensorSpec(name: "ambient", driver: "veml7700"),
            SensorSpec(name: "ambient-fixed", driver: "veml7700", options: ["gain": "1/4", "integration_time": "200"]),
            SensorSpec(name: "light", driver: "bh1750"),
            SensorSpec(name: "adc", driver: "ads1115", options: ["channels": "0,1", "full_scale": "4.096"]),
            SensorSpec(name: "rain", driver: "rain-gauge", pin: 11),
            SensorSpec(name: "door", driver: "digital-input", line: 22),
            SensorSpec(name: "board", driver: "board-temperature"),
            SensorSpec(name: "gas", driver: "bme680", bus: 2),
        ]
        // Kept until the end: a dropped set releases its drivers' GPIO lines.
        let set = SensorSet(specs: specs, factory: factory)
        defer { withExtendedLifetime(set) {} }
        let results = set.readAll()
        var byName: [String: [SensorReading]] = [:]
        for result in results {
            byName[result.name] = try result.result.get()
        }
        #expect(byName["air"]?.map(\.quantity) == ["temperature", "pressure", "relative_humidity"])
        #expect(byName["baro"]?.map(\.quantity) == ["temperature", "pressure"])
        #expect(byName["gas"]?.map(\.quantity) == ["temperature", "relative_humidity", "pressure", "gas_resistance"])
        #expect(byName["gas"]?.last?.settling == true, "the first read is within the default 30 min burn-in")
        #expect(abs((byName["sht4"]?[0].value ?? 0) - (21.5 + 273.15)) < 0.01)
        #expect(byName["co2"]?.first?.value == 612)
        #expect(byName["pm"]?.count == 10)
        #expect(abs((byName["pm"]?[1].value ?? 0) - 6.1e-9) < 1e-15, "PM2.5 6.1 µg/m³ as kg/m³")
        #expect(abs((byName["ambient"]?.first?.value ?? 0) - 350) < 1.75, "auto-range: \(byName["ambient"] ?? [])")
        #expect(abs((byName["ambient-fixed"]?.first?.value ?? 0) - 350) < 1.75, "gain 1/4, 200 ms: \(byName["ambient-fixed"] ?? [])")
        let sps30 = station.bus.detach(at: 0x69) as? SimulatedSPS30
        #expect(sps30?.cleaningInterval == 86400, "the option written to the chip")
        #expect(byName["light"] == [SensorReading(quantity: "illuminance", value: 812.5, unit: "lx")])
        #expect(byName["adc"]?.count == 2)
        #expect(abs((byName["adc"]?[0].value ?? 0) - 1.25) < 0.001)
        #expect(byName["rain"] == [SensorReading(quantity: "precipitation", value: 0, unit: "mm")])
        #expect(station.chip.isRequested(17), "pin 11 is line 17 on this board")
        #expect(byName["door"] == [SensorReading(quantity: "state", value: 0, unit: "1")])
        #expect(byName["board"] == [SensorReading(quantity: "temperature", value: 47.25 + 273.15, unit: "K")])
    }

    @Test func oneFailingSensorDoesNotStopTheOthersAndComesBackWhenReattached() throws {
        let station = station()
        let factory = SensorFactory(hardware: station, board: board)
        let set = SensorSet(specs: [SensorSpec(name: "air", driver: "bme280"), SensorSpec(name: "light", driver: "bh1750")], factory: factory)
        #expect(set.readAll().allSatisfy { (try? $0.result.get()) != nil })
        let removed = try #require(station.bus.detach(at: 0x76))
        let during = set.readAll()
        #expect(during.count == 2)
        guard case let .failure(error) = during[0].result else { Issue.record("read a removed chip"); return }
        #expect(error.code == .noAcknowledge)
        #expect(error.message.contains("0x76"), "\(error)")
        #expect(during[0].attempts == 2, "a no-ack is tried again once")
        #expect((try? during[1].result.get()) != nil, "the other sensor still reads")
        station.bus.attach(removed, at: 0x76)
        #expect((try? set.readAll()[0].result.get())?.count == 3, "re-detected after it came back")
    }

    @Test func anIOErrorMidTransferIsRetriedOnce() throws {
        let station = station()
        let sensor = ManagedSensor(spec: SensorSpec(name: "light", driver: "bh1750"), factory: SensorFactory(hardware: station, board: board))
        _ = try sensor.read().result.get()
        station.bus.failWithIO(at: 0x23, after: 1)
        let result = sensor.read()
        #expect(result.attempts == 2)
        #expect((try? result.result.get()) != nil)
    }

    @Test func wrongChipAtTheAddressSaysWhatWasFound() {
        let station = station()
        let result = ManagedSensor(spec: SensorSpec(name: "air", driver: "bme280", address: 0x77),
                                   factory: SensorFactory(hardware: station, board: board)).read()
        guard case let .failure(error) = result.result else { Issue.record("a BMP280 was read as a BME280"); return }
        #expect(error.code == .wrongChip)
        #expect(result.attempts == 1, "a wrong chip stays wrong: not tried again")
        #expect(error.message.contains("BMP280"), "\(error)")
    }

    @Test(arguments: [
        (SensorSpec(name: "rain", driver: "rain-gauge", pin: 6, file: "agent.yaml", lineNumber: 40),
         "agent.yaml:40: sensor \"rain\" (rain-gauge): header pin 6 is ground, not a GPIO; GPIO pins on Raspberry Pi 4 Model B: 11, 13, 15"),
        (SensorSpec(name: "rain", driver: "rain-gauge", file: "agent.yaml", lineNumber: 40),
         "agent.yaml:40: sensor \"rain\" (rain-gauge): needs `pin:` (header pin) or `line:` (line offset on the GPIO chip), e.g. `pin: 11`"),
        (SensorSpec(name: "rain", driver: "rain-gauge", pin: 11, options: ["mm_per_tip": "-1"], file: "a.yaml", lineNumber: 3),
         "a.yaml:3: sensor \"rain\" (rain-gauge): option mm_per_tip: \"-1\" is not a positive number, e.g. `mm_per_tip: 0.2794`"),
        (SensorSpec(name: "air", driver: "bme280", options: ["oversample": "2"], file: "a.yaml", lineNumber: 9),
         "a.yaml:9: sensor \"air\" (bme280): unknown option oversample; known: oversampling"),
        (SensorSpec(name: "adc", driver: "ads1115", options: ["channels": "0,4"], file: "a.yaml", lineNumber: 1),
         "a.yaml:1: sensor \"adc\" (ads1115): option channels: \"0,4\" must be numbers 0…3 separated by commas, e.g. `channels: 0,1`"),
        (SensorSpec(name: "pm", driver: "sps30", options: ["fan_cleaning_interval": "1 week"], file: "a.yaml", lineNumber: 5),
         "a.yaml:5: sensor \"pm\" (sps30): option fan_cleaning_interval: \"1 week\" is not a whole number of seconds between fan cleanings (0: none) "
            + "in 0…4294967295, e.g. `fan_cleaning_interval: 604800`"),
        (SensorSpec(name: "pm", driver: "sps30", options: ["fan_cleaning_interval": "4294967296"], file: "a.yaml", lineNumber: 5),
         "a.yaml:5: sensor \"pm\" (sps30): option fan_cleaning_interval: \"4294967296\" is not a whole number of seconds between fan cleanings (0: none) "
            + "in 0…4294967295, e.g. `fan_cleaning_interval: 604800`"),
        (SensorSpec(name: "lux", driver: "veml7700", options: ["gain": "4"], file: "a.yaml", lineNumber: 7),
         "a.yaml:7: sensor \"lux\" (veml7700): option gain: \"4\" is not one of auto, 1/8, 1/4, 1, 2, e.g. `gain: auto`"),
        (SensorSpec(name: "lux", driver: "veml7700", options: ["integration_time": "800"], file: "a.yaml", lineNumber: 7),
         "a.yaml:7: sensor \"lux\" (veml7700): option integration_time needs a fixed gain (auto-range chooses both): add `gain:` (one of 1/8, 1/4, 1, 2) or remove integration_time"),
        (SensorSpec(name: "lux", driver: "veml7700", options: ["gain": "2", "integration_time": "300"], file: "a.yaml", lineNumber: 7),
         "a.yaml:7: sensor \"lux\" (veml7700): option integration_time: \"300\" is not one of 25, 50, 100, 200, 400, 800"),
        (SensorSpec(name: "gas", driver: "bme680", bus: 2, options: ["heater_temperature": "450"], file: "a.yaml", lineNumber: 4),
         "a.yaml:4: sensor \"gas\" (bme680): option heater_temperature: \"450\" is not a number of °C in 200…400, e.g. `heater_temperature: 320`"),
        (SensorSpec(name: "gas", driver: "bme688", bus: 2, options: ["heater_duration": "5000"], file: "a.yaml", lineNumber: 4),
         "a.yaml:4: sensor \"gas\" (bme688): option heater_duration: \"5000\" is not a whole number of ms in 1…4032, e.g. `heater_duration: 150`"),
        (SensorSpec(name: "gas", driver: "bme680", bus: 2, options: ["burn_in": "-1"], file: "a.yaml", lineNumber: 4),
         "a.yaml:4: sensor \"gas\" (bme680): option burn_in: \"-1\" is not a number of s in 0…604800, e.g. `burn_in: 1800`"),
        (SensorSpec(name: "gas", driver: "bme680", bus: 2, options: ["heater_temp": "300"], file: "a.yaml", lineNumber: 4),
         "a.yaml:4: sensor \"gas\" (bme680): unknown option heater_temp; known: burn_in, heater_duration, heater_temperature"),
    ])
    func configurationProblemsNameTheEntryAndTheFix(spec: SensorSpec, message: String) {
        let station = station()
        let result = ManagedSensor(spec: spec, factory: SensorFactory(hardware: station, board: board)).read()
        guard case let .failure(error) = result.result else { Issue.record("accepted \(spec)"); return }
        #expect(error.message == message)
        #expect(error.code == .config)
        #expect(result.attempts == 1, "a configuration error is not tried again")
    }

    /// The heater options reach the chip: 250 °C is res_heat_0 =
    /// heaterResistance(250, 25) of the simulated chip's trimming values,
    /// 100 ms is gas_wait_0 0x59 (the datasheet's example), and burn_in 0
    /// leaves the gas reading settled from the first read.
    @Test func theBME680sHeaterOptionsAreWrittenToTheChip() throws {
        let station = station()
        let spec = SensorSpec(name: "gas", driver: "bme680", bus: 2,
                              options: ["heater_temperature": "250", "heater_duration": "100", "burn_in": "0"])
        let sensor = try SensorFactory(hardware: station, board: board).make(spec)
        let readings = try sensor.read()
        let chip = try #require(station.bus2.detach(at: 0x77) as? SimulatedBME680)
        let trimming = SimulatedBME680.Calibration.sample
        let calibration = BME680Calibration(t1: trimming.t.0, t2: trimming.t.1, t3: trimming.t.2, p1: 0, p2: 0, p3: 0, p4: 0, p5: 0, p6: 0, p7: 0,
                                            p8: 0, p9: 0, p10: 0, h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0, h7: 0,
                                            gh1: trimming.g.0, gh2: trimming.g.1, gh3: trimming.g.2, resHeatRange: trimming.resHeatRange,
                                            resHeatVal: trimming.resHeatVal, rangeSwitchingError: trimming.rangeSwitchingError)
        #expect(chip.register(0x5A) == calibration.heaterResistance(target: 250, ambient: 25))
        #expect(chip.register(0x5A) != calibration.heaterResistance(target: 320, ambient: 25), "not the default")
        #expect(chip.register(0x64) == 0x59)
        #expect(readings.first { $0.quantity == "gas_resistance" }?.settling == false)
        // The default address is 0x77 (Adafruit_BME680's BME68X_DEFAULT_ADDRESS; Pimoroni's library uses 0x76).
        #expect(SensorFactory.drivers.first { $0.name == "bme680" }?.defaultAddress == 0x77)
    }

    @Test func aMissingBusOnLinuxSaysHowToEnableI2COnThisBoard() {
        let factory = SensorFactory(hardware: LinuxHardware(), board: board)
        let result = ManagedSensor(spec: SensorSpec(name: "air", driver: "bme280", bus: 250), factory: factory).read()
        guard case let .failure(error) = result.result else { Issue.record("opened /dev/i2c-250"); return }
        #expect(error.code == .noBus)
        #expect(result.attempts == 1, "a missing bus is not tried again within the read")
        #expect(error.message.contains("/dev/i2c-250 does not exist"), "\(error)")
        #expect(error.message.contains("dtparam=i2c_arm=on"), "\(error)")
    }
}

@Suite struct BusScannerTests {
    @Test func scanFindsAndNamesEverySimulatedChipWithoutWritingToUnknownAddresses() throws {
        let station = SimulatedStation(weather: false, sleeper: NoSleep())
        let recording = RecordingI2CBus(station.bus)
        let found = try BusScanner(bus: recording, sleeper: NoSleep()).scan()
        #expect(found.map(\.address) == [0x10, 0x23, 0x40, 0x41, 0x44, 0x45, 0x48, 0x62, 0x69, 0x76, 0x77])
        let names = Dictionary(uniqueKeysWithValues: found.map { ($0.address, $0.identity ?? "?") })
        #expect(names[0x76] == "BME280 (chip-id 0x60)")
        #expect(names[0x77] == "BMP280 (chip-id 0x58)")
        #expect(names[0x44] == "SHT4x (serial 0x12345678)")
        #expect(names[0x45]?.hasPrefix("SHT3x") == true, "\(names[0x45] ?? "")")
        #expect(names[0x62]?.hasPrefix("SCD4x") == true)
        #expect(names[0x48]?.hasPrefix("ADS1115") == true, "\(names[0x48] ?? "")")
        #expect(names[0x40]?.hasPrefix("INA219?") == true, "\(names[0x40] ?? "")")
        #expect(names[0x41] == "INA260 (manufacturer 0x5449, die 0x2270)")
        #expect(names[0x69] == "SPS30 (product type 00080000, serial 3A1F6C2E9B7D4051)")
        #expect(names[0x10]?.hasPrefix("VEML7700?") == true, "\(names[0x10] ?? "")")
        let known: Set<UInt16> = [0x10, 0x23, 0x40, 0x41, 0x44, 0x45, 0x46, 0x48, 0x62, 0x69, 0x76, 0x77]
        for step in recording.steps where !known.contains(step.address) {
            #expect(step.operations == [.read(count: 1)], "0x\(String(step.address, radix: 16)) got more than a read-only probe")
        }
    }

    /// BME680 and BME688 share chip-id 0x61 (and the BME280's addresses):
    /// the variant id at 0xF0 names them, read only after 0xD0 said 0x61.
    @Test func scanTellsTheBME680AndBME688FromTheBME280Family() throws {
        let station = SimulatedStation(weather: false, sleeper: NoSleep())
        let found = try BusScanner(bus: station.bus2, sleeper: NoSleep()).scan()
        #expect(found.map(\.address) == [0x77])
        #expect(found.first?.identity == "BME680 (chip-id 0x61, variant 0x00)")
        let bus = SimulatedI2CBus()
        bus.attach(SimulatedBME680(bme688: true), at: 0x76)
        bus.attach(SimulatedBME280(), at: 0x77)
        let recording = RecordingI2CBus(bus)
        let names = try BusScanner(bus: recording, sleeper: NoSleep()).scan().map(\.identity)
        #expect(names == ["BME688 (chip-id 0x61, variant 0x01)", "BME280 (chip-id 0x60)"])
        #expect(!recording.steps.contains { $0.address == 0x77 && $0.operations == [.write([0xF0]), .read(count: 1)] },
                "no variant read on a BME280")
    }
}
