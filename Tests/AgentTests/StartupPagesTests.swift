import Foundation
import Glibc
@testable import Agent
import Testing

@Suite(.serialized) struct StartupPagesTests {
    @Test func readsFileMappingsFromProcMaps() throws {
        let code = Array("55d0c0a00000-55d0c1a00000 r-xp 003b1000 fe:00 5564737                    /usr/bin/fieldproof".utf8)
        let mapping = try #require(StartupPages.FileMapping(line: code[...]))
        #expect(mapping.start == 0x55d0_c0a0_0000)
        #expect(mapping.end == 0x55d0_c1a0_0000)
        #expect(!mapping.writable)
        let data = Array("7f00a0000000-7f00a0001000 rw-p 00002000 fe:00 42 /usr/lib/libc.so.6".utf8)
        #expect(try #require(StartupPages.FileMapping(line: data[...])).writable)
        // Anonymous memory, the heap and the vDSO are not files.
        for line in ["7f00a0000000-7f00a0021000 rw-p 00000000 00:00 0 ",
                     "5600a0000000-5600a0021000 rw-p 00000000 00:00 0                          [heap]",
                     "7ffd1000000-7ffd1002000 r-xp 00000000 00:00 0                          [vdso]"] {
            #expect(StartupPages.FileMapping(line: Array(line.utf8)[...]) == nil, "\(line)")
        }
    }

    /// The safety property: a page the process changed (as the loader does
    /// when it relocates) is never dropped, while the file's own pages of a
    /// read-only mapping are unmapped and read back unchanged.
    @Test func dropsOnlyTheFilesOwnPages() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = 32
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("startup-pages-\(UUID().uuidString.prefix(8))").path
        defer { unlink(path) }
        // Page i holds the byte i.
        let contents = (0..<pages).flatMap { [UInt8](repeating: UInt8($0), count: pageSize) }
        try Data(contents).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }

        // Like a relocated segment: private, written once, then read-only.
        let length = pages * pageSize
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        let base = try #require(mapped == MAP_FAILED ? nil : mapped)
        defer { munmap(base, length) }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var sum = 0
        for page in 0..<pages { sum += Int(bytes[page * pageSize]) }
        #expect(sum == (0..<pages).reduce(0, +))
        bytes[5 * pageSize] = 0xEE
        #expect(mprotect(base, length, PROT_READ) == 0)
        #expect(presentPages(base, pages: pages, pageSize: pageSize) == pages)

        StartupPages.release()

        #expect(bytes[5 * pageSize] == 0xEE, "a private copy was dropped: the change is lost")
        #expect(presentPages(base, pages: pages, pageSize: pageSize) <= 1, "the file's own pages are still mapped")
        #expect(bytes[7 * pageSize] == 7)
        #expect(bytes[31 * pageSize + 100] == 31)
    }

    /// A writable mapping may be written at any moment, so nothing in it is
    /// unmapped; its changed pages keep their contents.
    @Test func leavesWritableMappingsIntact() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("startup-pages-\(UUID().uuidString.prefix(8))").path
        defer { unlink(path) }
        try Data(repeating: 1, count: 8 * pageSize).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let mapped = mmap(nil, 8 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        let base = try #require(mapped == MAP_FAILED ? nil : mapped)
        defer { munmap(base, 8 * pageSize) }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for page in 0..<8 { bytes[page * pageSize] = UInt8(100 + page) }

        StartupPages.release()

        #expect((0..<8).map { bytes[$0 * pageSize] } == (0..<8).map { UInt8(100 + $0) })
        #expect(bytes[3 * pageSize + 1] == 1)
    }

    /// Pages of `base` present in this process (pagemap bit 63).
    private func presentPages(_ base: UnsafeMutableRawPointer, pages: Int, pageSize: Int) -> Int {
        let fd = open("/proc/self/pagemap", O_RDONLY)
        defer { close(fd) }
        var entries = [UInt64](repeating: 0, count: pages)
        let offset = off_t(UInt(bitPattern: base) / UInt(pageSize)) * 8
        let read = entries.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        guard read == pages * 8 else { return -1 }
        return entries.filter { $0 & (1 << 63) != 0 }.count
    }
}
