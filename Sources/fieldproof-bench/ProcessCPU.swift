import Foundation

/// CPU time (user + system, all threads) a process has used so far, from
/// /proc/PID/stat: what the benchmarks use to say where a run's cores went.
enum ProcessCPU {
    struct Unreadable: Error, CustomStringConvertible {
        let pid: Int32
        var description: String { "cannot read the CPU time of process \(pid) from /proc/\(pid)/stat" }
    }

    /// A process and its children (PostgreSQL: the postmaster and its
    /// backends), as far as they are running now.
    static func seconds(ofTree root: Int32) throws -> Double {
        var total = try seconds(of: root)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries.compactMap(Int32.init) where parent(of: pid) == root {
            total += (try? seconds(of: pid)) ?? 0 // it may have exited meanwhile
        }
        return total
    }

    private static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// CPU seconds so far of each of this process's live threads, by thread
    /// id, with its name (/proc/self/task/TID/comm).
    static func secondsByThread() -> [String: (name: String, seconds: Double)] {
        var threads: [String: (name: String, seconds: Double)] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for tid in tasks {
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
                  let seconds = try? seconds(ofStat: "/proc/self/task/\(tid)/stat", pid: getpid()) else { continue }
            threads[tid] = (name.trimmingCharacters(in: .whitespacesAndNewlines), seconds)
        }
        return threads
    }

    /// CPU seconds each thread name used between two `secondsByThread()`
    /// readings: threads alive at the second, less what they had at the first.
    /// A thread that ended between them is missing.
    static func secondsByThreadName(from before: [String: (name: String, seconds: Double)],
                                    to after: [String: (name: String, seconds: Double)]) -> [String: Double] {
        var totals: [String: Double] = [:]
        for (tid, thread) in after { totals[thread.name, default: 0] += thread.seconds - (before[tid]?.seconds ?? 0) }
        return totals
    }

    static func seconds(of pid: Int32 = getpid()) throws -> Double {
        try seconds(ofStat: "/proc/\(pid)/stat", pid: pid)
    }

    private static func seconds(ofStat path: String, pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: path, encoding: .utf8)
        // The command name (field 2) is in parentheses and may hold spaces;
        // utime and stime are fields 14 and 15, counted after it.
        guard let close = stat.lastIndex(of: ")") else { throw Unreadable(pid: pid) }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { throw Unreadable(pid: pid) }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU time the calling thread has used so far (CLOCK_THREAD_CPUTIME_ID):
    /// a synchronous loop's own cost, without time the core spent on others.
    static func threadSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
