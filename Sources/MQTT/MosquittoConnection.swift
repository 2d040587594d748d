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
/// drives it. Everything that touches libmosquitto lives in this file, in
/// `MosquittoConnection+NetworkThread.swift` (connecting, the loop,
/// reconnecting), `MosquittoConnection+Operations.swift` (publish,
/// subscribe), `MosquittoConnection+Events.swift` (what the callbacks
/// report), `MosquittoCallbacks.swift` and `MosquittoLibrary.swift`.
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
    /// Set by `retryNow()`: the network thread's current backoff wait ends
    /// at its next 20 ms slice.
    let retryRequested = Atomic<Bool>(false)
    let messageQueue: MessageQueue
    let stateContinuation: AsyncStream<MQTTConnectionState>.Continuation
    nonisolated(unsafe) let connectProperties: OpaquePointer?

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

    // MARK: Closing

    func stopThread() {
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
