import Foundation
import LinuxService
import Testing
import TestSupport

/// `FileIO.list` (spool segments, hwmon and iio devices) reads each entry's
/// name in place: a directory record is only as long as its name, so
/// copying a whole `dirent` could read past the end of glibc's buffer (it
/// crashed a test process listing a crowded /tmp). The over-read itself
/// shows only when the buffer ends at an unmapped page; what this checks is
/// that every name, 1 to 255 bytes long, comes back whole.
@Suite struct FileIOListTests {
    @Test func everyNameComesBackWhole() throws {
        let directory = try TemporaryDirectory.make(prefix: "fileio-list").path
        var expected: Set<String> = []
        for length in 1...255 {
            let name = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + ($0 + length) % 26))) })
            #expect(FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: nil))
            expected.insert(name)
        }
        let listed = try FileIO.list(directory)
        #expect(listed.count == expected.count, "no duplicates, no \".\" or \"..\"")
        #expect(Set(listed) == expected)
    }
}
