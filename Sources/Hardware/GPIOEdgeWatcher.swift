import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one place that watches GPIO edge lines for the whole runtime: one
/// thread waits in poll(2) on the event descriptors of every watched line
/// (and on a wake-up pipe), and hands each line's events to its
/// subscriber as they come. Lines without a descriptor are swept every
/// `sweepMilliseconds`.
///
/// Why a watcher at all, when a counter also takes its line's events at each
/// read: the kernel keeps only 16 events per line, and an anemometer in a
/// storm gives more than that between two reads. Subscribers own no thread;
/// the watcher's starts with the first subscriber and ends with the last.
///
/// Subscribers are held weakly, so a driver that is dropped without `close()`
/// is not kept alive by being watched.
public final class GPIOEdgeWatcher: Sendable {
    /// The runtime's watcher (what `HardwareAccess.edgeWatcher` gives by default).
    public static let shared = GPIOEdgeWatcher()

    private struct Entry {
        weak var subscriber: (any GPIOEdgeSubscriber)?
        let id: ObjectIdentifier
    }

    private struct State {
        var entries: [Entry] = []
        var threadRunning = false
        var sweeps = 0
    }

    private let state = Mutex(State())
    /// A pipe: the thread polls the read end; `watch`/`unwatch` write a
    /// byte to the other to wake it when the set of lines changes.
    private let wakeDescriptor: Int32
    private let wakeWriter: Int32
    public let sweepMilliseconds: Int32
    private let background: Bool

    /// `background: false` makes a watcher without a thread, which tests
    /// drive by calling `sweep()`.
    public init(sweepMilliseconds: Int32 = 50, background: Bool = true) {
        self.sweepMilliseconds = sweepMilliseconds
        self.background = background
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]
    }

    deinit {
        if wakeDescriptor >= 0 { Glibc.close(wakeDescriptor) }
        if wakeWriter >= 0 { Glibc.close(wakeWriter) }
    }

    /// How many subscribers are watched.
    public var count: Int { Self.live(state).count }
    /// Whether the watching thread is running.
    public var isRunning: Bool { state.withLock { $0.threadRunning } }
    /// Sweeps done so far (by the thread or by `sweep()`): what a test waits for.
    public var sweeps: Int { state.withLock { $0.sweeps } }

    /// The subscribers still alive. A weak reference loaded under the lock
    /// may be the last one left (its owner dropped it meanwhile): released
    /// there, the subscriber's deinit would call `unwatch` and take the lock
    /// again. So every load under the lock is kept in an array that is
    /// released only after the lock.
    private static func live(_ state: borrowing Mutex<State>) -> [any GPIOEdgeSubscriber] {
        state.withLock { state in state.entries.compactMap(\.subscriber) }
    }

    /// Starts watching `subscriber`'s line (starting the thread if needed).
    public func watch(_ subscriber: any GPIOEdgeSubscriber) {
        let id = ObjectIdentifier(subscriber)
        let start = state.withLock { state -> Bool in
            if !state.entries.contains(where: { $0.id == id }) {
                state.entries.append(Entry(subscriber: subscriber, id: id))
            }
            guard background, !state.threadRunning else { return false }
            state.threadRunning = true
            return true
        }
        if start { startThread() } else { wake() }
    }

    /// Stops watching the subscriber with this identity (callable from its
    /// deinit). After it returns the watcher polls the line's descriptor at
    /// most once more, which poll(2) tolerates after a close; it never reads
    /// from the line again through this subscriber.
    public func unwatch(_ id: ObjectIdentifier) {
        let held = state.withLock { state in
            // Strong first: see `live`.
            let held = state.entries.compactMap(\.subscriber)
            state.entries.removeAll { $0.id == id || $0.subscriber == nil }
            return held
        }
        withExtendedLifetime(held) {}
        wake()
    }

    /// Hands every watched line's pending events to its subscriber, on the
    /// caller's thread.
    public func sweep() {
        let subscribers = state.withLock { state -> [any GPIOEdgeSubscriber] in
            state.sweeps += 1
            return state.entries.compactMap(\.subscriber)
        }
        for subscriber in subscribers { subscriber.drainPendingEdges() }
    }

    private func wake() {
        guard wakeWriter >= 0 else { return }
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWriter, &byte, 1) // a full pipe (EAGAIN) already wakes the thread
    }

    private func startThread() {
        // The thread holds the watcher until it ends (when nothing is watched).
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<GPIOEdgeWatcher>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        if rc == 0 {
            pthread_detach(thread)
        } else {
            // Without the thread, counters still take their events at each
            // read; only bursts of more than 16 between reads are lost.
            Unmanaged<GPIOEdgeWatcher>.fromOpaque(context).release()
            state.withLock { $0.threadRunning = false }
        }
    }

    private func run() {
        while true {
            let held = state.withLock { state -> (subscribers: [any GPIOEdgeSubscriber], total: Int)? in
                // Strong first: see `live`.
                let subscribers = state.entries.compactMap(\.subscriber)
                state.entries.removeAll { $0.subscriber == nil }
                guard !state.entries.isEmpty else {
                    state.threadRunning = false
                    return nil
                }
                return (subscribers, state.entries.count)
            }
            guard let held else { return }
            let fileDescriptors = held.subscribers.compactMap(\.edgeFileDescriptor).filter { $0 >= 0 }
            let plan = (descriptors: fileDescriptors, timed: fileDescriptors.count < held.total || wakeDescriptor < 0)
            var descriptors = [pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)]
            descriptors += plan.descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&descriptors, nfds_t(descriptors.count), plan.timed ? sweepMilliseconds : -1)
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                var bytes = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wakeDescriptor, &bytes, bytes.count) > 0 {}
            }
            sweep()
            // A descriptor in error (a chip gone) stays ready: pause instead of spinning.
            let broken = Int16(POLLERR | POLLHUP | POLLNVAL)
            if descriptors.contains(where: { $0.revents & broken != 0 }) {
                var pause = timespec(tv_sec: 0, tv_nsec: Int(sweepMilliseconds) * 1_000_000)
                nanosleep(&pause, nil)
            }
        }
    }
}
