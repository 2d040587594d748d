#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// SIGHUP, SIGTERM and SIGINT as an async sequence, so the daemon decides
/// what they mean: reload on SIGHUP, drain and exit on SIGTERM/SIGINT.
///
/// The classic self-pipe: the handler (async-signal-safe) writes the signal
/// number to a pipe, and a thread turns bytes into events. This works
/// whatever signal masks other threads (libdispatch's workers block all
/// signals) happen to have, which signalfd- or sigwait-based designs do not.
public final class SignalEvents: Sendable {
    public enum Signal: Sendable, Equatable {
        case hangUp
        case terminate
        case interrupt
    }

    public let events: AsyncStream<Signal>

    /// One set of handlers per process: the pipe the handlers write to.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    /// The stream the reader thread feeds (a second instance takes it over).
    private static let continuation = Mutex<AsyncStream<Signal>.Continuation?>(nil)

    /// Installs the handlers (once per process; a second instance takes
    /// over the event stream).
    public init() {
        let (events, continuation) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(8))
        self.events = events
        Self.continuation.withLock { current in
            current?.finish()
            current = continuation
            guard Self.writeEnd < 0 else { return }
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { return }
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            Self.writeEnd = ends[1]
            Self.startReader(readEnd: ends[0])
            for number in [SIGHUP, SIGTERM, SIGINT] {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = { number in
                    var byte = UInt8(truncatingIfNeeded: number)
                    _ = write(SignalEvents.writeEnd, &byte, 1)
                }
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART
                sigaction(number, &action, nil)
            }
        }
    }

    private static func startReader(readEnd: Int32) {
        var thread = pthread_t()
        let context = UnsafeMutableRawPointer(bitPattern: Int(readEnd) + 1)
        pthread_create(&thread, nil, { context in
            let fd = Int32(Int(bitPattern: context) - 1)
            var byte: UInt8 = 0
            while true {
                let count = read(fd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return nil }
                let signal: Signal? = switch Int32(byte) {
                case SIGHUP: .hangUp
                case SIGTERM: .terminate
                case SIGINT: .interrupt
                default: nil
                }
                if let signal {
                    let continuation = SignalEvents.continuation.withLock { $0 }
                    continuation?.yield(signal)
                }
            }
        }, context)
        pthread_detach(thread)
    }
}
