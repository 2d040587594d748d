import CLinuxSupport
import CMosquitto
import LinuxService
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one owner of a libmosquitto handle and of the network thread that
/// drives it. Everything that touches libmosquitto lives in this file and in
/// `MosquittoCallbacks.swift`.
///
/// Threading: libmosquitto calls back on our network thread. The callbacks
/// reach this object through the handle's userdata, which holds a *retained*
/// reference (see DESIGN.md, "libmosquitto from Swift"), so this object can
/// never be deinitialised on the network thread; it is released only by
/// `close()`, after the thread has been joined and the handle destroyed.
final class MosquittoConnection: Sendable {
    nonisolated(unsafe) let handle: OpaquePointer
    let configuration: MQTTConfiguration
    let state: Mutex<ConnectionBook>
    let closing = Atomic<Bool>(false)
    let messageQueue: MessageQueue
    let stateContinuation: AsyncStream<MQTTConnectionState>.Continuation
    nonisolated(unsafe) private let connectProperties: OpaquePointer?

    init(
        configuration: MQTTConfiguration,
        messages: MessageQueue,
        states: AsyncStream<MQTTConnectionState>.Continuation
    ) throws(MQTTError) {
        MosquittoLibrary.initialiseOnce()
        try Self.validate(configuration)
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
            throw .invalidConfiguration("libmosquitto could not create a client (errno \(errno): \(String(cString: strerror(errno))))")
        }
        self.handle = handle
        self.configuration = configuration
        self.state = Mutex(ConnectionBook())
        self.messageQueue = messages
        self.stateContinuation = states

        var properties: OpaquePointer? = nil
        if configuration.protocolVersion == .v5 && !configuration.cleanSession {
            // Without a session expiry an MQTT 5 session ends with the connection.
            mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), configuration.sessionExpiry)
        }
        self.connectProperties = properties

        do {
            try applyOptions()
        } catch {
            mosquitto_property_free_all(&properties)
            mosquitto_destroy(handle)
            throw error
        }
        mosquitto_user_data_set(handle, Unmanaged.passRetained(self).toOpaque())
        MosquittoCallbacks.install(on: handle)
    }

    private static func validate(_ configuration: MQTTConfiguration) throws(MQTTError) {
        if configuration.host.isEmpty { throw .invalidConfiguration("the broker host is empty") }
        if !(1...65_535).contains(configuration.port) {
            throw .invalidConfiguration("port \(configuration.port) is not between 1 and 65535")
        }
        if configuration.clientID.isEmpty || configuration.clientID.utf8.count > 65_535 {
            throw .invalidConfiguration("the client id must be 1 to 65535 bytes")
        }
        if let tls = configuration.tls {
            for (role, path) in [("CA", tls.caFile), ("certificate", tls.certificateFile), ("key", tls.keyFile)] {
                if let path, access(path, R_OK) != 0 { throw .tlsFileUnreadable(role: role, path: path) }
            }
            if (tls.certificateFile == nil) != (tls.keyFile == nil) {
                throw .invalidConfiguration("a TLS client certificate needs its key file, and a key its certificate")
            }
        }
        if let will = configuration.will, let problem = TopicRules.publishProblem(will.topic) {
            throw .invalidTopic(topic: will.topic, reason: "last will: \(problem)")
        }
    }

    private func applyOptions() throws(MQTTError) {
        let config = configuration
        let version: Int32 = config.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "set protocol version")
        try check(mosquitto_threaded_set(handle, true), "enable threaded mode")
        try check(mosquitto_max_inflight_messages_set(handle, UInt32(max(1, config.maximumInflight))), "set in-flight window")
        // Small telemetry messages: do not let Nagle hold them back.
        _ = mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1)
        if config.username != nil || config.password != nil {
            try check(mosquitto_username_pw_set(handle, config.username, config.password), "set username and password")
        }
        if let tls = config.tls {
            try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil), "set TLS files")
            // Server name checking stays on: never call mosquitto_tls_insecure_set(true).
            try check(mosquitto_tls_insecure_set(handle, false), "enable server name check")
        }
        if let will = config.will {
            let rc = will.payload.withUnsafeBytes { bytes in
                mosquitto_will_set(handle, will.topic, Int32(bytes.count), bytes.baseAddress, will.qos.rawValue, will.retain)
            }
            try check(rc, "set last will")
        }
    }

    private func check(_ rc: Int32, _ operation: String) throws(MQTTError) {
        if rc != MosquittoLibrary.success {
            throw .invalidConfiguration("\(operation): \(MosquittoLibrary.describe(rc))")
        }
    }

    // MARK: Connecting

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

    private func startThread(needsConnect: Bool) {
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
    private func runNetworkLoop() {
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

    private func reconnectOnce() -> Int32 {
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
    private func failFirstConnect(with error: MQTTError) -> Bool {
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

    /// Waits in 20 ms slices so `close()` need not wait out a long backoff.
    private func sleepInterruptibly(for delay: Duration) {
        let (seconds, attoseconds) = delay.components
        var remaining = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        while remaining > 0 && !closing.load(ordering: .sequentiallyConsistent) {
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

    // MARK: Closing

    private func stopThread() {
        closing.store(true, ordering: .sequentiallyConsistent)
        let thread = state.withLock { book -> pthread_t? in
            defer { book.thread = nil }
            return book.thread
        }
        if let thread {
            if pthread_equal(thread, pthread_self()) != 0 {
                pthread_detach(thread)
            } else {
                pthread_join(thread, nil)
            }
        }
    }

    /// Sends DISCONNECT (so no last will is published), joins the network
    /// thread, fails whatever still waits, and frees the handle. Idempotent.
    func close() {
        // Release a network thread blocked on a full message queue first.
        messageQueue.finish()
        let alreadyClosed = state.withLock { book -> Bool in
            defer { book.closed = true }
            return book.closed
        }
        if alreadyClosed { return }
        if state.withLock({ $0.connected }) {
            _ = mosquitto_disconnect(handle)
        }
        stopThread()
        let waiting = state.withLock { $0.takeAllWaiters() }
        for waiter in waiting { waiter.fail(MQTTError.closed) }
        stateContinuation.finish()
        var properties = connectProperties
        mosquitto_property_free_all(&properties)
        if let userdata = mosquitto_userdata(handle) {
            mosquitto_user_data_set(handle, nil)
            mosquitto_destroy(handle)
            Unmanaged<MosquittoConnection>.fromOpaque(userdata).release()
        } else {
            mosquitto_destroy(handle)
        }
    }
}
