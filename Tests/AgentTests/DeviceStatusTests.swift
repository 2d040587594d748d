import Foundation
@testable import Agent
import LinuxService
import Testing

@Suite struct DeviceStatusTests {
    @Test func roundTripsThroughTheRuntimeDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(try DeviceStatus.read(fromRuntimeDirectory: directory) == nil)
        let statistics = SpoolStatistics(records: 3, bytes: 384, oldestAppendedAt: 1_000, oldestSequence: 42, acknowledgedUpTo: 41,
                                         droppedRecords: 2, truncatedTails: 1, truncatedBytes: 50)
        let status = DeviceStatus(
            version: "0.1.0", serial: "fp-1", pid: 42, updatedAt: 3_500, paired: true, keyID: "00112233", board: "raspberry-pi-4-b",
            clockSynchronised: false, lastSequence: 44,
            broker: .init(address: "127.0.0.1:1883", connected: false, lastError: "Connection refused"),
            sensors: [.init(name: "air", driver: "bme280", lastReadAt: 3_000, readings: [.init(quantity: "temperature", value: 294.65, unit: "K")])],
            spool: .init(statistics, now: 3_500))
        try status.write(toRuntimeDirectory: directory)
        let read = try #require(try DeviceStatus.read(fromRuntimeDirectory: directory))
        #expect(read == status)
        #expect(read.spool.oldestAgeSeconds == 2.5)
        #expect(read.spool.droppedRecords == 2)
        let attributes = try FileManager.default.attributesOfItem(atPath: DeviceStatus.path(inRuntimeDirectory: directory))
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
    }

    /// The status is runtime state rewritten every second: replaced
    /// atomically (temporary file + rename) but never fsynced, while the
    /// durable files keep both fsyncs (file, then directory).
    @Test func theStatusIsReplacedAtomicallyWithoutFsync() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var synced: [String] = []
        let record: FileIO.Sync = { _, path in synced.append(path) }
        var status = try JSONDecoder().decode(DeviceStatus.self, from: Data(#"""
            {"version": "1", "serial": "fp-1", "pid": 1, "updatedAt": 1, "paired": false, "clockSynchronised": true, "lastSequence": 0,
             "broker": {"address": "127.0.0.1:1883", "connected": false}, "sensors": [],
             "spool": {"records": 0, "bytes": 0, "droppedRecords": 0, "truncatedTails": 0, "lastAcknowledged": 0}}
            """#.utf8))
        try status.write(toRuntimeDirectory: directory, sync: record)
        status.updatedAt = 2
        try status.write(toRuntimeDirectory: directory, sync: record)
        #expect(synced.isEmpty, "the status file is not fsynced")
        #expect(try DeviceStatus.read(fromRuntimeDirectory: directory)?.updatedAt == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["status.json"], "the temporary file was renamed")

        try FileIO.writeAtomically(directory + "/sequence", Array("7\n".utf8), sync: record)
        #expect(synced == [directory + "/sequence.tmp", directory], "durable writes fsync the file, then its directory")
    }

    /// What the daemon writes reads back as what was written (one codec
    /// both ways): strings that need escaping, every optional absent and
    /// present, numbers at the edges of `Double`.
    @Test func theStatusFileDecodesToTheSameStatus() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} unit °C emoji 🌡️ slash /"
        let values: [Double] = [0, -0.0, 0.1, 294.65, 5, -40, 1e-7, 6.02214076e23, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        let statistics = SpoolStatistics(records: 0, bytes: 0, oldestAppendedAt: nil, oldestSequence: nil, acknowledgedUpTo: 0,
                                         droppedRecords: 0, truncatedTails: 0, truncatedBytes: 0)
        for optionalsPresent in [false, true] {
            let status = DeviceStatus(
                version: awkward, serial: "fp-\u{1F}", pid: Int32.max, updatedAt: UInt64.max, paired: optionalsPresent,
                keyID: optionalsPresent ? awkward : nil, board: optionalsPresent ? "raspberry-pi-5" : nil,
                clockSynchronised: optionalsPresent, lastSequence: 1 << 60,
                broker: .init(address: "[::1]:8883", connected: optionalsPresent, lastError: optionalsPresent ? awkward : nil,
                              since: optionalsPresent ? 17 : nil),
                sensors: [
                    .init(name: awkward, driver: "bme280", lastReadAt: optionalsPresent ? 3 : nil,
                          readings: values.map { .init(quantity: "q", value: $0, unit: awkward) },
                          lastError: optionalsPresent ? "timeout" : nil, lastErrorAt: optionalsPresent ? 4 : nil),
                    .init(name: "idle", driver: "sht4x"),
                ],
                spool: .init(statistics, now: 10))
            let decoded = try JSONDecoder().decode(DeviceStatus.self, from: Data(try status.encoded()))
            #expect(decoded == status)
            #expect(decoded.sensors[0].readings.map(\.value) == values)
        }
    }

    @Test func leavesOutReadingsJSONCannotCarry() throws {
        var status = try JSONDecoder().decode(DeviceStatus.self, from: Data(#"""
            {"version": "1", "serial": "s", "pid": 1, "updatedAt": 2, "paired": false, "clockSynchronised": true, "lastSequence": 0,
             "broker": {"address": "a", "connected": false},
             "sensors": [{"name": "n", "driver": "d", "readings": [{"quantity": "q", "value": 1.5, "unit": "u"}]}],
             "spool": {"records": 0, "bytes": 0, "droppedRecords": 0, "truncatedTails": 0, "lastAcknowledged": 0}}
            """#.utf8))
        status.sensors[0].readings.append(.init(quantity: "q", value: .nan, unit: "u"))
        status.sensors[0].readings.append(.init(quantity: "q", value: -.infinity, unit: "u"))
        let decoded = try JSONDecoder().decode(DeviceStatus.self, from: Data(try status.encoded()))
        #expect(decoded.sensors[0].readings.map(\.value) == [1.5])
    }

    /// A status file the daemon did not write (cut short, edited, filled
    /// with garbage, huge) is an error naming the file and the fault.
    @Test func aStatusFileThatIsNotAReportIsAClearError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = DeviceStatus.path(inRuntimeDirectory: directory)
        let cases: [(String, [UInt8], String)] = [
            ("cut short", Array(#"{"version": "1", "serial": "#.utf8), "not JSON"),
            ("a field missing", Array(#"{"version": "1"}"#.utf8), "missing serial"),
            ("a wrong type", Array(#"{"version": 1}"#.utf8), "wrong type at version"),
            ("binary garbage", [0xff, 0xfe, 0x00, 0x7b], "not JSON"),
            ("huge", [UInt8](repeating: 0x20, count: DeviceStatus.maximumFileBytes + 1), "File too large"),
        ]
        for (name, bytes, reason) in cases {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try DeviceStatus.read(fromRuntimeDirectory: directory)
                Issue.record("\(name): read a status from it")
            } catch let error as DeviceStatusError {
                #expect(error.description.hasPrefix(path + " is not a status report"), "\(name): \(error)")
                #expect(error.description.contains(reason), "\(name): \(error)")
            }
        }
    }
}
