import Foundation
import Testing
import TestSupport

/// Hardware in the loop: Debian's kernel with i2c-stub in qemu, our Linux
/// back-end and BME280 driver reading the chip through the real
/// `/dev/i2c-N` (scripts/hil). Needs /dev/kvm; says why it skipped without.
@Suite struct HILTests {
    static var kvmUsable: Bool { access("/dev/kvm", R_OK | W_OK) == 0 }

    @Test(.enabled(if: kvmUsable, "/dev/kvm is missing or not usable here: the hardware-in-the-loop guest needs KVM (run scripts/hil on a machine with it)"),
          .timeLimit(.minutes(10)))
    func bme280ReadsThroughTheKernelsI2CStub() async throws {
        let script = ProjectPaths.root.appendingPathComponent("scripts/hil").path
        let result = try await ProcessRunner.run(script, [])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("HIL PASS"))
        #expect(result.output.contains("no acknowledge from 0x77 on /dev/i2c-"), "the kernel's answer for an empty address")
        #expect(result.output.contains("that is a BMP280, not a BME280"))
    }
}
