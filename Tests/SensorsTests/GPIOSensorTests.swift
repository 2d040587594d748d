import Hardware
import Sensors
import SimulatedHardware
import Synchronization
import Testing

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let now = Mutex<UInt64>(0)
    func advance(seconds: Double) { now.withLock { $0 += UInt64(seconds * 1e9) } }
    var read: @Sendable () -> UInt64 { { self.now.withLock { $0 } } }
}

@Suite struct GPIOSensorTests {
    let ms: UInt64 = 1_000_000

    @Test func rainGaugeCountsDebouncedTipsAsMillimetresSinceTheLastRead() throws {
        let chip = SimulatedGPIOChip()
        let line = try chip.requestInput(offset: 17, edge: .falling, bias: .pullUp)
        let gauge = PulseCounter(name: "rain", kind: .rainGauge, line: line, debounceMilliseconds: 10)
        // Three tips, the first with two bounces (reed switch chatter) 1–2 ms after it.
        for start in [0, 1 * ms, 2 * ms, 500 * ms, 900 * ms] {
            chip.pulse(17, atNanoseconds: start, widthNanoseconds: ms / 2)
        }
        gauge.collect(timeoutMilliseconds: 0)
        let first = try gauge.read()
        #expect(first.count == 1)
        #expect(first[0].quantity == "precipitation" && first[0].unit == "mm")
        #expect(abs(first[0].value - 3 * 0.2794) < 1e-12)
        #expect(try gauge.read()[0].value == 0, "a read resets the count")
        #expect(gauge.totalPulses == 3)
    }

    @Test func anemometerTurnsPulsesPerSecondIntoMetresPerSecond() throws {
        let chip = SimulatedGPIOChip()
        let clock = ManualClock()
        let line = try chip.requestInput(offset: 5, edge: .falling, bias: .pullUp)
        let anemometer = PulseCounter(name: "wind", kind: .anemometer, line: line, debounceMilliseconds: 2, monotonicNanoseconds: clock.read)
        // 50 pulses in 10 s = 5 Hz; 2.4 km/h per Hz → 12 km/h = 3.333… m/s.
        for index in 0..<50 { chip.pulse(5, atNanoseconds: UInt64(index) * 200 * ms, widthNanoseconds: 50 * ms) }
        anemometer.collect(timeoutMilliseconds: 0)
        clock.advance(seconds: 10)
        let reading = try anemometer.read()[0]
        #expect(reading.quantity == "wind_speed" && reading.unit == "m/s")
        #expect(abs(reading.value - 12 / 3.6) < 1e-9)
        #expect(!reading.outOfRange)
    }

    @Test func theCollectingThreadCountsEdgesAsTheyArrive() async throws {
        let chip = SimulatedGPIOChip()
        let line = try chip.requestInput(offset: 6, edge: .falling, bias: .pullUp)
        let counter = PulseCounter(name: "pulses", kind: .counter, line: line, debounceMilliseconds: 1)
        counter.start()
        // More edges than the kernel's 16-event buffer, in bursts.
        for index in 0..<40 { chip.pulse(6, atNanoseconds: UInt64(index) * 10 * ms) }
        var waited = 0
        while counter.totalPulses < 40 && waited < 2000 {
            try await Task.sleep(for: .milliseconds(5))
            waited += 5
        }
        #expect(try counter.read()[0].value == 40)
        counter.stop()
        #expect(!chip.isRequested(6), "stop releases the line")
    }

    @Test func aReleasedLineIsReportedAsAnErrorNotAsZeroRain() throws {
        let chip = SimulatedGPIOChip()
        let line = try chip.requestInput(offset: 17, edge: .falling, bias: .pullUp)
        let gauge = PulseCounter(name: "rain", kind: .rainGauge, line: line)
        line.release()
        gauge.collect(timeoutMilliseconds: 0)
        #expect(throws: SensorError.self) { _ = try gauge.read() }
    }

    @Test func digitalInputReadsActiveLowContacts() throws {
        let chip = SimulatedGPIOChip()
        let door = DigitalInput(name: "door", line: try chip.requestInput(offset: 23, edge: nil, bias: .pullUp), quantity: "door_open")
        #expect(try door.read() == [SensorReading(quantity: "door_open", value: 0, unit: "1")])
        chip.drive(23, high: false, atNanoseconds: 1)
        #expect(try door.read() == [SensorReading(quantity: "door_open", value: 1, unit: "1")])
        let activeHigh = DigitalInput(name: "tamper", line: try chip.requestInput(offset: 24, edge: nil, bias: .pullDown), activeLow: false)
        #expect(try activeHigh.read()[0].value == 0)
        chip.drive(24, high: true, atNanoseconds: 1)
        #expect(try activeHigh.read()[0].value == 1)
    }
}
