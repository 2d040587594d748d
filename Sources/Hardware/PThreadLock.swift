#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex in a class of its own (the mutex must not move), for
/// the Linux back-ends whose state includes C handles; the Hardware module
/// stays free of Foundation.
final class PThreadLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
