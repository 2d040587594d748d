import Hardware
import SimulatedHardware
import Testing

/// The playback bus itself: it must fail a driver that strays from the
/// expected session, or stops short of it, or it proves nothing.
@Suite struct PlaybackI2CBusTests {
    typealias Step = PlaybackI2CBus.Step

    @Test func anExactSequencePassesAndAnswersWithTheStepsBytes() throws {
        let bus = PlaybackI2CBus([
            Step(address: 0x76, write: [0xD0], read: [0x60], "Chip ID"),
            Step(address: 0x76, write: [0xF4, 0x25], "ctrl_meas: forced mode"),
            Step(address: 0x76, read: [0x12, 0x34], "plain read"),
        ])
        #expect(try bus.writeRead(address: 0x76, [0xD0], count: 1) == [0x60])
        try bus.write(address: 0x76, [0xF4, 0x25])
        #expect(try bus.read(address: 0x76, count: 2) == [0x12, 0x34])
        #expect(bus.played == 3)
        try bus.done()
    }

    @Test func anUnexpectedTransactionThrowsExpectedAgainstGot() {
        let bus = PlaybackI2CBus([Step(address: 0x76, write: [0xD0], read: [0x60], "Chip ID")])
        do {
            _ = try bus.writeRead(address: 0x76, [0xD1], count: 1)
            Issue.record("a wrong register was answered")
        } catch {
            #expect(error.kind == .other)
            #expect(error.detail.contains("expected 0x76: write 0xd0, read 1 // Chip ID"))
            #expect(error.detail.contains("got 0x76: write 0xd1, read 1"))
        }
    }

    @Test func aMismatchTheDriverSwallowedStillFailsDone() {
        let bus = PlaybackI2CBus([Step(address: 0x44, write: [0xFD], "measure")])
        _ = try? bus.write(address: 0x45, [0xFD]) // wrong address, error ignored
        #expect(throws: PlaybackI2CBus.Failure.self) { try bus.done() }
        do { try bus.done() } catch {
            #expect(error.mismatches.count == 1)
            #expect(error.mismatches[0].contains("got 0x45"))
            #expect(error.leftOver.isEmpty, "the mismatched step was played")
        }
    }

    @Test func aReadOfTheWrongLengthIsAMismatch() {
        let bus = PlaybackI2CBus([Step(address: 0x23, read: [0x83, 0x90])])
        #expect(throws: I2CError.self) { _ = try bus.read(address: 0x23, count: 3) }
        #expect(throws: PlaybackI2CBus.Failure.self) { try bus.done() }
    }

    @Test func aTransactionAfterTheLastStepFails() throws {
        let bus = PlaybackI2CBus([Step(address: 0x23, write: [0x01])])
        try bus.write(address: 0x23, [0x01])
        #expect(throws: I2CError.self) { try bus.write(address: 0x23, [0x01]) }
        do { try bus.done() } catch {
            #expect(error.mismatches == ["transaction 2 was not expected (all 1 steps were played): got 0x23: write 0x01"])
        }
    }

    @Test func leftOverStepsFailDoneAndAreListed() throws {
        let bus = PlaybackI2CBus([
            Step(address: 0x62, write: [0x3F, 0x86], "stop_periodic_measurement"),
            Step(address: 0x62, write: [0x21, 0xB1], "start_periodic_measurement"),
        ])
        try bus.write(address: 0x62, [0x3F, 0x86])
        do {
            try bus.done()
            Issue.record("done() passed with a step left over")
        } catch {
            #expect(error.mismatches.isEmpty)
            #expect(error.leftOver == [Step(address: 0x62, write: [0x21, 0xB1], "start_periodic_measurement")])
            #expect(error.description.contains("1 expected step never happened"))
        }
    }

    @Test func anInjectedErrorIsThrownWithItsKindAndTheStepCounts() throws {
        let bus = PlaybackI2CBus([
            Step(address: 0x48, write: [0x02], read: [0x80, 0x00], failure: .noAcknowledgeAddress, "nothing at 0x48"),
            Step(address: 0x48, write: [0x02], read: [0x80, 0x00], "second try answers"),
        ])
        do {
            _ = try bus.writeRead(address: 0x48, [0x02], count: 2)
            Issue.record("the injected error was not thrown")
        } catch {
            #expect(error.kind == .noAcknowledgeAddress)
            #expect(error.address == 0x48)
        }
        #expect(try bus.writeRead(address: 0x48, [0x02], count: 2) == [0x80, 0x00])
        try bus.done()
    }
}
