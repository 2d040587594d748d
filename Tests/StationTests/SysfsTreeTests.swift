import Foundation
@testable import SimulatedStation
import Testing

/// A daemon killed with -9 leaves its simulated sysfs trees behind; the next
/// run removes those whose process is gone, and nothing else.
@Suite struct SysfsTreeTests {
    @Test func staleTreesOfDeadProcessesAreRemoved() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sysfs-stale-\(UUID().uuidString)").path
        let elsewhere = root + "-elsewhere"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: elsewhere) }
        // No process has this pid (above the kernel's pid_max).
        let dead = "2147483646"
        let stale = "\(root)/fieldproof-simulated-w1-\(dead)-AbC123"
        try FileManager.default.createDirectory(atPath: stale + "/28-0316a2796aff", withIntermediateDirectories: true)
        try "t=1\n".write(toFile: stale + "/28-0316a2796aff/w1_slave", atomically: false, encoding: .utf8)
        try "x".write(toFile: stale + "/28-0316a2796aff/w1_slave.new", atomically: false, encoding: .utf8)
        let live = "\(root)/fieldproof-simulated-hwmon-\(getpid())-XyZ789"
        try FileManager.default.createDirectory(atPath: live + "/hwmon0", withIntermediateDirectories: true)
        let old = "\(root)/fieldproof-simulated-thermal-Qw3rTy"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        try "keep".write(toFile: elsewhere + "/precious", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/fieldproof-simulated-iio-\(dead)-Sym000", withDestinationPath: elsewhere)

        SysfsTree.removeStale(in: root)

        #expect(!FileManager.default.fileExists(atPath: stale), "the dead process's tree is gone")
        #expect(FileManager.default.fileExists(atPath: live + "/hwmon0"), "a running process keeps its tree")
        #expect(FileManager.default.fileExists(atPath: old), "a name without a pid is not ours to judge")
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/precious"), "a planted symlink is not followed")
    }
}
