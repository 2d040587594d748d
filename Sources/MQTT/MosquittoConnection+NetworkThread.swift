import CLinuxSupport
import CMosquitto
import LinuxService
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Connecting and the network thread: it drives libmosquitto, and when the
/// connection drops it waits out the backoff and reconnects.
extension MosquittoConnection {
    /// Connects once and waits for CONNACK; on failure stops the network thread.
    func connect() async throws(MQTTError) {
        let config = configuration
        let rc = mosquitto_connect_bind_v5(handle, config.host, Int32(config.port), Int32(config.keepAlive), nil, connectProperties)
        if rc != MosquittoLibrary.success {
            throw .connectionFailed(host: config.host, port: config.port, reason: failureReason(rc))
        }
        state.withLock { $0.hasConnectedOnce = true }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLock { $0.connectWaiter = continuation }
                startThread(needsConnect: false)
            }
        } catch let error as MQTTError {
            stopThread()
            throw error
        } catch {
            stopThread()
            throw .library(operation: "connect", reason: "\(error)")
        }
    }

    /// Starts the network thread, which connects (and reconnects) on its own.
    func start() {
        startThread(needsConnect: true)
    }

    func startThread(needsConnect: Bool) {
        state.withLock { $0.threadNeedsConnect = needsConnect }
        closing.store(false, ordering: .sequentiallyConsistent)
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let connection = Unmanaged<MosquittoConnection>.fromOpaque(context).takeRetainedValue()
            connection.runNetworkLoop()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<MosquittoConnection>.fromOpaque(context).release()
            let waiter = state.withLock { book -> CheckedContinuation<Void, any Error>? in
                defer { book.connectWaiter = nil }
                return book.connectWaiter
            }
            waiter?.resume(throwing: MQTTError.library(operation: "start network thread", reason: String(cString: strerror(rc))))
            return
        }
        state.withLock { $0.thread = thread }
    }

    /// The network thread: drive libmosquitto, and when the connection drops,
    /// wait (capped exponential backoff with jitter) and reconnect.
    func runNetworkLoop() {
        // Named so tests (and `top -H`) can find it; at most 15 characters.
        _ = fieldproof_name_current_thread("fp-mqtt")
        let threadID = pid_t(fieldproof_current_thread_id())
        state.withLock { $0.threadID = threadID }
        let policy = configuration.reconnect
        var backoff = Backoff(initialDelay: policy.initialDelay, maximumDelay: policy.maximumDelay, multiplier: policy.multiplier, jitter: policy.jitter)
        var random = SystemRandomNumberGenerator()
        var needsConnect = state.withLock { $0.threadNeedsConnect }
        var closingSince: ContinuousClock.Instant? = nil

        while true {
            if closing.load(ordering: .sequentiallyConsistent) {
                // Let the queued DISCONNECT go out, but never hang on it.
                if needsConnect || mosquitto_socket(handle) < 0 { break }
                let now = ContinuousClock.now
                if let since = closingSince, now - since > .seconds(2) { break }
                if closingSince == nil { closingSince = now }
            }
            if needsConnect {
                let rc = reconnectOnce()
                if rc == MosquittoLibrary.success {
                    needsConnect = false
                } else {
                    let reason = failureReason(rc)
                    if failFirstConnect(with: .connectionFailed(host: configuration.host, port: configuration.port, reason: reason)) { break }
                    reportDisconnected(reason: "cannot connect to \(configuration.host):\(configuration.port): \(reason)")
                    sleepInterruptibly(for: backoff.nextDelay(using: &random))
                    continue
                }
            }
            let rc = mosquitto_loop(handle, 100, 1)
            if rc == MosquittoLibrary.success {
                if state.withLock({ $0.connected }) { backoff.reset() }
                continue
            }
            if closing.load(ordering: .sequentiallyConsistent) { break }
            let reason = failureReason(rc)
            let refusal = state.withLock { $0.lastRefusal }
            if failFirstConnect(with: refusal.map { .connectionRefused(host: configuration.host, port: configuration.port, reason: $0) }
                ?? .connectionFailed(host: configuration.host, port: configuration.port, reason: reason)) { break }
            reportDisconnected(reason: refusal ?? reason)
            needsConnect = true
            sleepInterruptibly(for: backoff.nextDelay(using: &random))
        }
        state.withLock { $0.connected = false }
    }

    func reconnectOnce() -> Int32 {
        let config = configuration
        let first = state.withLock { book -> Bool in
            defer { book.hasConnectedOnce = true }
            return !book.hasConnectedOnce
        }
        state.withLock { $0.lastRefusal = nil; $0.lastErrorLog = nil }
        if first {
            return mosquitto_connect_bind_v5(handle, config.host, Int32(config.port), Int32(config.keepAlive), nil, connectProperties)
        }
        return mosquitto_reconnect(handle)
    }

    /// While `connect()` waits for its first CONNACK, a failure goes to it and
    /// ends the thread. Returns true when that happened.
    func failFirstConnect(with error: MQTTError) -> Bool {
        let waiter = state.withLock { book -> CheckedContinuation<Void, any Error>? in
            defer { book.connectWaiter = nil }
            return book.connectWaiter
        }
        guard let waiter else { return false }
        waiter.resume(throwing: error)
        return true
    }

    func reportDisconnected(reason: String) {
        let (changed, lost) = state.withLock { book -> (Bool, [ConnectionBook.Waiter]) in
            defer { book.connected = false; book.lastReportedDown = reason }
            return (book.connected || book.lastReportedDown != reason, book.connectionLost())
        }
        for waiter in lost { waiter.fail(MQTTError.notConnected) }
        if changed { stateContinuation.yield(.disconnected(reason: reason)) }
    }

    /// Waits in 20 ms slices so `close()` need not wait out a long backoff,
    /// nor a connection whose sibling is back (`retryNow()`).
    func sleepInterruptibly(for delay: Duration) {
        let (seconds, attoseconds) = delay.components
        var remaining = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        while remaining > 0 && !closing.load(ordering: .sequentiallyConsistent)
            && !retryRequested.exchange(false, ordering: .sequentiallyConsistent) {
            let slice = min(remaining, 20)
            usleep(UInt32(slice) * 1000)
            remaining -= slice
        }
    }

    /// A readable reason for a libmosquitto return code, preferring what
    /// libmosquitto logged (it has the TLS details) and the OS errno.
    func failureReason(_ rc: Int32) -> String {
        let osError = errno
        let logged = state.withLock { $0.lastErrorLog }
        if rc == MosquittoLibrary.errno {
            if osError != 0 { return String(cString: strerror(osError)) }
        }
        if rc == Int32(MOSQ_ERR_TLS.rawValue), let logged { return "TLS: \(logged)" }
        if let logged, rc == Int32(MOSQ_ERR_ERRNO.rawValue) { return logged }
        return MosquittoLibrary.describe(rc)
    }
}
