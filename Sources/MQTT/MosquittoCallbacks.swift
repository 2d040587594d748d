import CMosquitto

/// libmosquitto's callbacks. They run on the network thread, so they are
/// plain `@convention(c)` functions in a non-isolated enum: a closure formed
/// in main-actor context would carry that isolation and trap at run time.
/// Each finds its `MosquittoConnection` through the retained userdata.
enum MosquittoCallbacks {
    static func install(on handle: OpaquePointer) {
        mosquitto_connect_v5_callback_set(handle, onConnect)
        mosquitto_disconnect_v5_callback_set(handle, onDisconnect)
        mosquitto_publish_v5_callback_set(handle, onPublish)
        mosquitto_subscribe_v5_callback_set(handle, onSubscribe)
        mosquitto_unsubscribe_v5_callback_set(handle, onUnsubscribe)
        mosquitto_message_v5_callback_set(handle, onMessage)
        mosquitto_log_callback_set(handle, onLog)
    }

    private static func connection(_ userdata: UnsafeMutableRawPointer?) -> MosquittoConnection? {
        guard let userdata else { return nil }
        return Unmanaged<MosquittoConnection>.fromOpaque(userdata).takeUnretainedValue()
    }

    static let onConnect: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
        handle, userdata, rc, flags, properties in
        guard let connection = connection(userdata) else { return }
        connection.didConnect(rc: rc, sessionPresent: flags & 1 != 0, properties: properties)
    }

    static let onDisconnect: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?) -> Void = {
        _, userdata, rc, _ in
        guard let connection = connection(userdata) else { return }
        connection.didDisconnect(rc: rc)
    }

    static let onPublish: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, OpaquePointer?) -> Void = {
        _, userdata, mid, reasonCode, _ in
        guard let connection = connection(userdata) else { return }
        connection.didAcknowledge(mid: mid, outcome: reasonCode)
    }

    static let onSubscribe: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, Int32, UnsafePointer<Int32>?, OpaquePointer?) -> Void = {
        _, userdata, mid, count, granted, _ in
        guard let connection = connection(userdata) else { return }
        // One filter per SUBSCRIBE: a granted QoS >= 0x80 is a refusal.
        let first: Int32 = (count > 0 ? granted?.pointee : nil) ?? 0x80
        connection.didAcknowledge(mid: mid, outcome: first >= 0x80 ? first : 0)
    }

    static let onUnsubscribe: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, OpaquePointer?) -> Void = {
        _, userdata, mid, _ in
        guard let connection = connection(userdata) else { return }
        connection.didAcknowledge(mid: mid, outcome: 0)
    }

    static let onMessage: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<mosquitto_message>?, OpaquePointer?) -> Void = {
        _, userdata, message, _ in
        guard let connection = connection(userdata), let message = message?.pointee, let topic = message.topic else { return }
        let count = Int(max(0, message.payloadlen))
        let payload: [UInt8]
        if count > 0, let bytes = message.payload {
            payload = Array(UnsafeRawBufferPointer(start: bytes, count: count))
        } else {
            payload = []
        }
        connection.messageQueue.push(MQTTMessage(
            topic: String(cString: topic),
            payload: payload,
            qos: QoS(rawValue: message.qos) ?? .atMostOnce,
            retain: message.retain
        ))
    }

    static let onLog: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = {
        _, userdata, level, text in
        guard level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text, let connection = connection(userdata) else { return }
        let line = String(cString: text)
        connection.state.withLock { $0.lastErrorLog = line }
    }
}
