import Foundation
@testable import Agent
import Testing

@Suite struct DeviceClockTests {
    @Test func timestampsNeverGoBackwardsWithinABoot() {
        let wall = ManualClock(start: 10_000)
        let clock = DeviceClock(bootIDPath: "/nonexistent", wall: wall.read, sinceBoot: { 5 }, isSynchronised: { false })
        #expect(clock.now().unixMilliseconds == 10_000)
        wall.set(4_000) // NTP or a technician sets the clock back
        #expect(clock.now().unixMilliseconds == 10_000)
        wall.set(12_000)
        #expect(clock.now().unixMilliseconds == 12_000)
    }

    @Test func readingsCarryBootIdentityAndSyncState() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("boot_id-\(UUID().uuidString.prefix(6))").path
        try "b033245c-87b3-42a3-a204-e4cbf65d0a14\n".write(toFile: file, atomically: true, encoding: .utf8)
        let synced = DeviceClock(bootIDPath: file, wall: { 1 }, sinceBoot: { 777 }, isSynchronised: { true }).now()
        #expect(synced.bootID == [0xb0, 0x33, 0x24, 0x5c, 0x87, 0xb3, 0x42, 0xa3, 0xa2, 0x04, 0xe4, 0xcb, 0xf6, 0x5d, 0x0a, 0x14])
        #expect(synced.millisecondsSinceBoot == 777)
        #expect(synced.synchronised)
    }

    @Test func thisMachinesBootIDAndKernelClockStateAreReadable() {
        let reading = DeviceClock().now()
        #expect(reading.bootID != [UInt8](repeating: 0, count: 16))
        #expect(reading.millisecondsSinceBoot > 0)
        _ = DeviceClock.kernelSaysSynchronised() // either answer is valid here; it must not fail
    }

    @Test func malformedBootIDsAreRejected() {
        #expect(DeviceClock.parseBootID("xyz") == nil)
        #expect(DeviceClock.parseBootID("g033245c-87b3-42a3-a204-e4cbf65d0a14") == nil)
    }
}

extension ManualClock {
    func set(_ value: UInt64) {
        let current = read()
        if value >= current { advance(by: value - current) } else { rewind(by: current - value) }
    }
}
