import Hardware
import SimulatedHardware
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct GPIOTests {
    @Test func debounceDropsEdgesCloserThanTheIntervalToTheLastCountedOne() {
        var debouncer = Debouncer(milliseconds: 10)
        let ms: UInt64 = 1_000_000
        let accepted = [0, 1 * ms, 3 * ms, 9 * ms, 10 * ms, 25 * ms, 26 * ms, 1000 * ms].map { debouncer.accept($0) }
        #expect(accepted == [true, false, false, false, true, true, false, true])
    }

    @Test func edgeSettingSelectsWhichLevelChangesBecomeEvents() throws {
        let chip = SimulatedGPIOChip()
        let falling = try chip.requestInput(offset: 17, edge: .falling, bias: .pullUp)
        let rising = try chip.requestInput(offset: 27, edge: .rising, bias: .pullDown)
        let both = try chip.requestInput(offset: 22, edge: .both, bias: .asIs)
        #expect(try falling.value() == true, "pull-up: an open contact reads high")
        #expect(try rising.value() == false)
        for offset in [17, 27, 22] {
            chip.pulse(offset, activeHigh: offset != 17, atNanoseconds: 1_000, widthNanoseconds: 500)
        }
        #expect(try falling.waitForEvents(timeoutMilliseconds: 0) == [GPIOEdgeEvent(rising: false, timestampNanoseconds: 1_000)])
        #expect(try rising.waitForEvents(timeoutMilliseconds: 0) == [GPIOEdgeEvent(rising: true, timestampNanoseconds: 1_000)])
        #expect(try both.waitForEvents(timeoutMilliseconds: 0).map(\.rising) == [true, false])
        #expect(try both.waitForEvents(timeoutMilliseconds: 0).isEmpty, "events are delivered once")
    }

    @Test func aLineHeldByOneOwnerIsBusyForAnotherUntilReleased() throws {
        let chip = SimulatedGPIOChip(label: "pinctrl-bcm2711")
        let first = try chip.requestInput(offset: 4, edge: nil, bias: .asIs)
        #expect(throws: GPIOError.self) { _ = try chip.requestOutput(offset: 4, initial: false) }
        first.release()
        #expect(throws: GPIOError.self) { _ = try first.value() }
        let output = try chip.requestOutput(offset: 4, initial: true)
        #expect(chip.level(4))
        try output.set(false)
        #expect(!chip.level(4))
    }

    @Test func anOffsetTheChipDoesNotHaveNamesTheRange() {
        let chip = SimulatedGPIOChip(label: "pinctrl-rp1", lineCount: 54)
        do {
            _ = try chip.requestInput(offset: 60, edge: nil, bias: .asIs)
            Issue.record("offset 60 was accepted")
        } catch {
            #expect(error.kind == .noSuchLine)
            #expect(error.description == "line 60 of gpiochip0 (pinctrl-rp1): has lines 0…53; check the pin → line map in the board file")
        }
    }

    @Test func linuxBackEndNamesAMissingChipAndHowToListChips() {
        do {
            _ = try LinuxGPIOChip("no-such-chip-label")
            Issue.record("opened a chip that does not exist")
        } catch {
            #expect(error.kind == .missingChip)
            #expect(error.description.contains("gpiodetect"), "\(error)")
            #expect(error.description.contains("no-such-chip-label"), "\(error)")
        }
    }

    @Test func errnoMapsToKindsWithTheirFixes() {
        #expect(GPIOError.fromErrno(EACCES, chip: "gpiochip0", line: 17, operation: "request").description
            == "line 17 of gpiochip0: request: Permission denied; add the user to the `gpio` group (`sudo usermod -aG gpio $USER`, then log in again)")
        #expect(GPIOError.kind(forErrno: EBUSY) == .busy)
        #expect(GPIOError.kind(forErrno: ENOENT) == .missingChip)
    }

    /// Runs only where the machine has a GPIO chip (a Raspberry Pi, or a
    /// kernel with gpio-sim); says why it skipped otherwise.
    @Test(.enabled(if: access("/dev/gpiochip0", R_OK | W_OK) == 0, "no usable /dev/gpiochip0 on this machine (no GPIO hardware, gpio-sim or gpio-mockup)"))
    func linuxBackEndOpensARealChipAndReadsALine() throws {
        let chip = try LinuxGPIOChip("gpiochip0")
        #expect(chip.lineCount > 0)
        #expect(!chip.label.isEmpty)
    }
}
