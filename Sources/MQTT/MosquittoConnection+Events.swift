import CMosquitto

/// What the network thread learns from libmosquitto's callbacks.
extension MosquittoConnection {
    func didConnect(rc: Int32, sessionPresent: Bool, properties: OpaquePointer?) {
        if rc != 0 {
            let reason = configuration.protocolVersion == .v5
                ? MosquittoLibrary.reason(rc)
                : String(cString: mosquitto_connack_string(rc))
            state.withLock { $0.lastRefusal = reason }
            return
        }
        var maximumPacket: UInt32 = 0
        let announced = mosquitto_property_read_int32(properties, Int32(MQTT_PROP_MAXIMUM_PACKET_SIZE.rawValue), &maximumPacket, false) != nil
        let (waiter, resubscribe) = state.withLock { book -> (CheckedContinuation<Void, any Error>?, [String: QoS]) in
            book.connected = true
            book.lastRefusal = nil
            book.lastReportedDown = nil
            book.brokerMaximumPacketSize = announced ? Int(maximumPacket) : nil
            defer { book.connectWaiter = nil }
            return (book.connectWaiter, sessionPresent ? [:] : book.subscriptions)
        }
        // A broker without our session forgot the subscriptions: renew them.
        // Called on the network thread inside a callback, so these only queue.
        for (filter, qos) in resubscribe {
            var mid: Int32 = 0
            if mosquitto_subscribe_v5(handle, &mid, filter, qos.rawValue, 0, nil) == MosquittoLibrary.success {
                state.withLock { book in
                    if book.early.removeValue(forKey: mid) == nil { book.abandoned.insert(mid) }
                }
            }
        }
        stateContinuation.yield(.connected)
        waiter?.resume()
    }

    func didDisconnect(rc: Int32) {
        if closing.load(ordering: .sequentiallyConsistent) {
            state.withLock { $0.connected = false }
            return
        }
        let reason: String
        if let refusal = state.withLock({ $0.lastRefusal }) {
            reason = refusal
        } else if rc == 0 {
            reason = "disconnected"
        } else if configuration.protocolVersion == .v5 && rc > Int32(MOSQ_ERR_UNKNOWN.rawValue) {
            reason = MosquittoLibrary.reason(rc)
        } else {
            reason = rc == Int32(MOSQ_ERR_CONN_LOST.rawValue) ? "the broker closed the connection" : MosquittoLibrary.describe(rc)
        }
        reportDisconnected(reason: reason)
    }

    func didAcknowledge(mid: Int32, outcome: Int32) {
        guard let waiter = state.withLock({ $0.complete(mid: mid, outcome: outcome) }) else { return }
        resume(waiter, outcome: outcome)
    }

    func resume(_ waiter: ConnectionBook.Waiter, outcome: Int32) {
        switch waiter {
        case let .publish(continuation, topic):
            if outcome >= 0x80 {
                continuation.resume(throwing: MQTTError.publishRejected(topic: topic, reason: MosquittoLibrary.reason(outcome)))
            } else {
                continuation.resume()
            }
        case let .subscribe(continuation, filter):
            if outcome >= 0x80 {
                let reason = configuration.protocolVersion == .v5 ? MosquittoLibrary.reason(outcome) : "SUBACK failure (0x80): not allowed by the broker"
                continuation.resume(throwing: MQTTError.subscriptionRejected(filter: filter, reason: reason))
            } else {
                continuation.resume()
            }
        case let .unsubscribe(continuation):
            continuation.resume()
        }
    }
}
