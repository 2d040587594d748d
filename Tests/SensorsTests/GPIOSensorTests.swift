import Hardware
import Sensors
import SimulatedHardware
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

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
        clock.advance(seconds: 10)
        let reading = try anemometer.read()[0]
        #expect(reading.quantity == "wind_speed" && reading.unit == "m/s")
        #expect(abs(reading.value - 12 / 3.6) < 1e-9)
        #expect(!reading.outOfRange)
    }

    /// The watcher, not the read, takes the events between reads (what keeps
    /// the kernel's 16-event buffer from overflowing); the debounce holds
    /// across the batches it hands over.
    @Test func theWatcherCountsEdgesBetweenReadsAcrossBatches() throws {
        let chip = SimulatedGPIOChip()
        let watcher = GPIOEdgeWatcher(background: false)
        let line = try chip.requestInput(offset: 6, edge: .falling, bias: .pullUp)
        let counter = PulseCounter(name: "pulses", kind: .counter, line: line, debounceMilliseconds: 5, watcher: watcher)
        #expect(watcher.count == 1)
        for index in 0..<16 { chip.pulse(6, atNanoseconds: UInt64(index) * 10 * ms) }
        watcher.sweep()
        #expect(counter.totalPulses == 16, "counted before any read")
        // A bounce 1 ms after the last edge of the first batch, then 16 more edges.
        chip.pulse(6, atNanoseconds: 151 * ms, widthNanoseconds: ms / 4)
        for index in 16..<32 { chip.pulse(6, atNanoseconds: UInt64(index) * 10 * ms) }
        watcher.sweep()
        #expect(counter.totalPulses == 32, "the bounce across the batch boundary is not counted")
        #expect(try counter.read()[0].value == 32)
        counter.close()
        #expect(watcher.count == 0, "close stops the watching")
        #expect(!chip.isRequested(6), "close releases the line")
    }

    /// The runtime's case: one watcher thread for several counters. It ends
    /// when the last counter closes. Waits are deadline polls for the event.
    @Test func oneWatcherThreadFeedsEveryCounterAndEndsWithTheLast() async throws {
        let chip = SimulatedGPIOChip()
        let watcher = GPIOEdgeWatcher(sweepMilliseconds: 5)
        let rain = PulseCounter(name: "rain", kind: .rainGauge, line: try chip.requestInput(offset: 17, edge: .falling, bias: .pullUp),
                                debounceMilliseconds: 1, watcher: watcher)
        let wind = PulseCounter(name: "wind", kind: .anemometer, line: try chip.requestInput(offset: 27, edge: .falling, bias: .pullUp),
                                debounceMilliseconds: 1, watcher: watcher)
        #expect(watcher.isRunning)
        for index in 0..<40 {
            chip.pulse(17, atNanoseconds: UInt64(index) * 10 * ms)
            chip.pulse(27, atNanoseconds: UInt64(index) * 10 * ms)
        }
        try await waitUntil { rain.totalPulses == 40 && wind.totalPulses == 40 }
        #expect(rain.totalPulses == 40 && wind.totalPulses == 40, "counted without a read")
        rain.close()
        #expect(watcher.isRunning, "one counter is still watched")
        wind.close()
        try await waitUntil { !watcher.isRunning }
        #expect(!watcher.isRunning, "the thread ends with the last counter")
        #expect(!chip.isRequested(17) && !chip.isRequested(27))
    }

    /// Lines with an event descriptor are not swept on a timer: the thread
    /// sleeps in poll(2) until a descriptor is readable, as a Linux line's is
    /// when the kernel queued an edge. The sweep interval here is a minute,
    /// so only the descriptor can have woken it.
    @Test func aPollableLineWakesTheWatcherThroughItsDescriptor() async throws {
        let chip = SimulatedGPIOChip()
        let watcher = GPIOEdgeWatcher(sweepMilliseconds: 60_000)
        let line = try PipeSignalledLine(try chip.requestInput(offset: 22, edge: .falling, bias: .pullUp))
        let counter = PulseCounter(name: "pulses", kind: .counter, line: line, debounceMilliseconds: 1, watcher: watcher)
        #expect(counter.edgeFileDescriptor == line.eventFileDescriptor)
        #expect(watcher.isRunning)
        for index in 0..<5 { chip.pulse(22, atNanoseconds: UInt64(index) * 10 * ms) }
        line.signal()
        try await waitUntil { counter.totalPulses == 5 }
        #expect(counter.totalPulses == 5)
        counter.close()
        try await waitUntil { !watcher.isRunning }
        #expect(!watcher.isRunning, "unwatching wakes the thread through its pipe, and it ends")
    }

    @Test func aCounterDroppedWithoutCloseIsNotKeptAliveByTheWatcher() throws {
        let chip = SimulatedGPIOChip()
        let watcher = GPIOEdgeWatcher(background: false)
        do {
            let line = try chip.requestInput(offset: 6, edge: .falling, bias: .pullUp)
            _ = PulseCounter(name: "pulses", kind: .counter, line: line, watcher: watcher)
        }
        #expect(watcher.count == 0)
        #expect(!chip.isRequested(6), "its deinit released the line")
        watcher.sweep() // nothing left to drain, and no crash
    }

    @Test func aReleasedLineIsReportedAsAnErrorNotAsZeroRain() throws {
        let chip = SimulatedGPIOChip()
        let watcher = GPIOEdgeWatcher(background: false)
        let line = try chip.requestInput(offset: 17, edge: .falling, bias: .pullUp)
        let gauge = PulseCounter(name: "rain", kind: .rainGauge, line: line, watcher: watcher)
        line.release()
        watcher.sweep()
        #expect(gauge.edgeFileDescriptor == nil, "a failing line is swept on the timer, not polled")
        do {
            _ = try gauge.read()
            Issue.record("a released line read as rain")
        } catch {
            #expect(error.message.hasPrefix("rain (rain-gauge): line 17"))
        }
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

    /// Polls `condition` until it holds or 5 s pass (a deadline, not a settle).
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
    }
}

/// A simulated line with an event descriptor, as a Linux line has: a pipe
/// made readable by `signal()` (the kernel queuing an edge) and drained
/// when the events are taken.
final class PipeSignalledLine: GPIOPollableLine, Sendable {
    private let inner: any GPIOInputLine
    private let reader: Int32
    private let writer: Int32

    init(_ inner: any GPIOInputLine) throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw GPIOError(kind: .io, chip: "test pipe", detail: "pipe failed") }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        self.inner = inner
        reader = ends[0]
        writer = ends[1]
    }

    deinit {
        close(reader)
        close(writer)
    }

    var description: String { inner.description }
    var eventFileDescriptor: Int32 { reader }
    func signal() {
        var byte: UInt8 = 1
        _ = write(writer, &byte, 1)
    }
    func value() throws(GPIOError) -> Bool { try inner.value() }
    func waitForEvents(timeoutMilliseconds: Int) throws(GPIOError) -> [GPIOEdgeEvent] {
        var bytes = [UInt8](repeating: 0, count: 16)
        while read(reader, &bytes, bytes.count) > 0 {}
        return try inner.waitForEvents(timeoutMilliseconds: timeoutMilliseconds)
    }
    func release() { inner.release() }
}
