import Glibc

/// Gives back the file pages that only start-up needed.
///
/// Most of the daemon's resident memory is not data but clean pages of the
/// files it maps: its own binary (13 MB of code, Swift metadata) and shared
/// libraries. Start-up (argument parsing, YAML, TLS set-up, the first
/// protocol-conformance lookups) touches code all over them, and the kernel
/// maps 64 KiB around every fault, so a minute after start 10 MiB of the
/// binary were mapped of which the sampling loop uses a small part
/// (measured with /proc/PID/smaps). Once the daemon runs, `release()`
/// unmaps the clean file pages; the loop maps back what it uses.
///
/// Nothing is ever lost:
/// - Read-only mappings (code, constants): only pages that /proc/self/pagemap
///   says are the file's own are dropped (`MADV_DONTNEED`); a page the
///   loader relocated is a private copy and stays. A mapping that cannot be
///   written cannot gain such a copy between the check and the drop.
/// - Every file mapping: `MADV_PAGEOUT` asks the kernel to reclaim the pages
///   only this process maps; it never discards data (without swap, private
///   copies are skipped) and the kernel only does it for files this user
///   could write, so it helps when run as the binary's owner.
/// - `MADV_RANDOM`: a page of constants read back later is read alone, not
///   with 128 KiB around it (for code, kernels since 6.16 read around
///   anyway; that is why our binary's cached pages are also evicted).
/// Kernels that do not know an advice answer `EINVAL`, which changes nothing.
public enum StartupPages {
    /// Returns how many bytes were dropped from this process's mappings
    /// (not counting what `MADV_PAGEOUT` reclaimed).
    @discardableResult
    public static func release() -> Int {
        guard let maps = try? FileIO.readFile("/proc/self/maps") else { return 0 }
        let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        defer { if pagemap >= 0 { close(pagemap) } }
        let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
        var dropped = 0
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            guard let mapping = FileMapping(line: line),
                  let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            let length = Int(mapping.end - mapping.start)
            _ = madvise(start, length, MADV_RANDOM)
            // First what the kernel may reclaim outright (it walks the page
            // tables, so it must come before the pages are unmapped).
            _ = madvise(start, length, MADV_PAGEOUT)
            guard !mapping.writable, pagemap >= 0 else { continue }
            for run in fileBackedRuns(of: mapping, pagemap: pagemap, pageSize: pageSize) {
                guard let runStart = UnsafeMutableRawPointer(bitPattern: run.lowerBound) else { continue }
                let runLength = Int(run.upperBound - run.lowerBound)
                if madvise(runStart, runLength, MADV_DONTNEED) == 0 { dropped += runLength }
            }
        }
        // Pages of our own binary that readahead brought in around the
        // faults are cached without being mapped; fault-around would map
        // them again at the next fault nearby. Unmapped clean pages are
        // evicted here (any user may; pages other processes map stay).
        let executable = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        if executable >= 0 {
            _ = posix_fadvise(executable, 0, 0, POSIX_FADV_DONTNEED)
            close(executable)
        }
        return dropped
    }

    /// The runs of pages of `mapping` that are present and hold the file's
    /// own contents (pagemap bit 63 present, bit 61 file page), so dropping
    /// them loses nothing.
    static func fileBackedRuns(of mapping: FileMapping, pagemap: Int32, pageSize: UInt) -> [Range<UInt>] {
        let pages = Int((mapping.end - mapping.start) / pageSize)
        var entries = [UInt64](repeating: 0, count: pages)
        let wanted = pages * MemoryLayout<UInt64>.size
        let read = entries.withUnsafeMutableBytes { buffer in
            pread(pagemap, buffer.baseAddress, wanted, off_t(mapping.start / pageSize) * 8)
        }
        guard read == wanted else { return [] }
        var runs: [Range<UInt>] = []
        var runStart: UInt?
        for (index, entry) in entries.enumerated() {
            let address = mapping.start + UInt(index) * pageSize
            let droppable = entry & (1 << 63) != 0 && entry & (1 << 61) != 0
            if droppable, runStart == nil { runStart = address }
            if !droppable, let start = runStart { runs.append(start..<address); runStart = nil }
        }
        if let start = runStart { runs.append(start..<mapping.end) }
        return runs
    }

    /// One line of /proc/self/maps that maps a file:
    /// `start-end perms offset dev inode path`.
    struct FileMapping {
        let start: UInt
        let end: UInt
        let writable: Bool

        init?(line: ArraySlice<UInt8>) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            // inode 0 is anonymous memory, the stack, [vdso] and the like;
            // the path is padded with spaces after the inode.
            guard fields.count == 6, fields[4] != [UInt8(ascii: "0")],
                  fields[5].first(where: { $0 != UInt8(ascii: " ") }) == UInt8(ascii: "/") else { return nil }
            let range = fields[0].split(separator: UInt8(ascii: "-"))
            guard range.count == 2,
                  let start = UInt(String(decoding: range[0], as: UTF8.self), radix: 16),
                  let end = UInt(String(decoding: range[1], as: UTF8.self), radix: 16),
                  end > start else { return nil }
            self.start = start
            self.end = end
            writable = fields[1].contains(UInt8(ascii: "w"))
        }
    }
}
