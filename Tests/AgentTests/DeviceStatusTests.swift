import Foundation
@testable import Agent
import Testing

@Suite struct DeviceStatusTests {
    @Test func roundTripsThroughTheStateDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try DeviceStatus.read(fromStateDirectory: directory) == nil)
        let statistics = SpoolStatistics(records: 3, bytes: 384, oldestAppendedAt: 1_000, oldestSequence: 42, acknowledgedUpTo: 41,
                                         droppedRecords: 2, truncatedTails: 1, truncatedBytes: 50)
        let status = DeviceStatus(
            version: "0.1.0", serial: "fp-1", pid: 42, updatedAt: 3_500, paired: true, keyID: "00112233", board: "raspberry-pi-4-b",
            clockSynchronised: false, lastSequence: 44,
            broker: .init(address: "127.0.0.1:1883", connected: false, lastError: "Connection refused"),
            sensors: [.init(name: "air", driver: "bme280", lastReadAt: 3_000, readings: [.init(quantity: "temperature", value: 294.65, unit: "K")])],
            spool: .init(statistics, now: 3_500))
        try status.write(toStateDirectory: directory)
        let read = try #require(try DeviceStatus.read(fromStateDirectory: directory))
        #expect(read == status)
        #expect(read.spool.oldestAgeSeconds == 2.5)
        #expect(read.spool.droppedRecords == 2)
        let attributes = try FileManager.default.attributesOfItem(atPath: DeviceStatus.path(inStateDirectory: directory))
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
    }
}
