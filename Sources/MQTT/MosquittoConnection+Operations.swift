import CMosquitto

/// Publish, subscribe and unsubscribe: each sends its packet, then waits for
/// the broker's acknowledgement of that message id.
extension MosquittoConnection {
    func publish(topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws {
        if let problem = TopicRules.publishProblem(topic) { throw MQTTError.invalidTopic(topic: topic, reason: problem) }
        if let limit = configuration.maximumPayloadSize, payload.count > limit {
            throw MQTTError.payloadTooLarge(size: payload.count, limit: limit)
        }
        let losses = try connectionLossesIfOpen()
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, qos.rawValue, retain, nil)
        }
        switch rc {
        case MosquittoLibrary.success:
            break
        case MosquittoLibrary.noConnection where qos != .atMostOnce:
            // libmosquitto has queued the message and sends it after the
            // reconnect; the PUBACK completes this call then.
            break
        case MosquittoLibrary.noConnection:
            throw MQTTError.notConnected
        case MosquittoLibrary.oversizePacket:
            let limit = state.withLock { $0.brokerMaximumPacketSize } ?? configuration.maximumPayloadSize ?? 0
            throw MQTTError.payloadTooLarge(size: payload.count, limit: limit)
        default:
            throw MQTTError.library(operation: "publish to \(topic)", reason: MosquittoLibrary.describe(rc))
        }
        try await waitForAcknowledgement(mid: mid, forgettableSince: qos == .atMostOnce ? losses : nil) { .publish($0, topic: topic) }
    }

    func subscribe(filter: String, qos: QoS) async throws {
        if let problem = TopicRules.filterProblem(filter) { throw MQTTError.invalidFilter(filter: filter, reason: problem) }
        let losses = try connectionLossesIfOpen()
        var mid: Int32 = 0
        let rc = mosquitto_subscribe_v5(handle, &mid, filter, qos.rawValue, 0, nil)
        guard rc == MosquittoLibrary.success else {
            if rc == MosquittoLibrary.noConnection { throw MQTTError.notConnected }
            throw MQTTError.library(operation: "subscribe to \(filter)", reason: MosquittoLibrary.describe(rc))
        }
        try await waitForAcknowledgement(mid: mid, forgettableSince: losses) { .subscribe($0, filter: filter) }
        state.withLock { $0.subscriptions[filter] = qos }
    }

    func unsubscribe(filter: String) async throws {
        if let problem = TopicRules.filterProblem(filter) { throw MQTTError.invalidFilter(filter: filter, reason: problem) }
        let losses = try connectionLossesIfOpen()
        state.withLock { _ = $0.subscriptions.removeValue(forKey: filter) }
        var mid: Int32 = 0
        let rc = mosquitto_unsubscribe_v5(handle, &mid, filter, nil)
        guard rc == MosquittoLibrary.success else {
            if rc == MosquittoLibrary.noConnection { throw MQTTError.notConnected }
            throw MQTTError.library(operation: "unsubscribe from \(filter)", reason: MosquittoLibrary.describe(rc))
        }
        try await waitForAcknowledgement(mid: mid, forgettableSince: losses) { .unsubscribe($0) }
    }

    /// `ConnectionBook.connectionLosses` before a packet is queued, or
    /// `closed` when the client was closed.
    private func connectionLossesIfOpen() throws -> UInt64 {
        let (closed, losses) = state.withLock { ($0.closed, $0.connectionLosses) }
        if closed { throw MQTTError.closed }
        return losses
    }

    /// `forgettableSince`: see `ConnectionBook.file`.
    private func waitForAcknowledgement(
        mid: Int32,
        forgettableSince losses: UInt64?,
        _ makeWaiter: (CheckedContinuation<Void, any Error>) -> ConnectionBook.Waiter
    ) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let waiter = makeWaiter(continuation)
                let outcome: Int32? = state.withLock { book in
                    if book.closed { return -1 }
                    return book.file(waiter, for: mid, forgettableSince: losses)
                }
                if outcome == -1 {
                    waiter.fail(MQTTError.closed)
                } else if outcome == ConnectionBook.lostWithConnection {
                    waiter.fail(MQTTError.notConnected)
                } else if let outcome {
                    resume(waiter, outcome: outcome)
                }
            }
        } onCancel: {
            let waiter = state.withLock { book -> ConnectionBook.Waiter? in
                guard let waiter = book.waiters.removeValue(forKey: mid) else { return nil }
                book.abandoned.insert(mid)
                return waiter
            }
            waiter?.fail(CancellationError())
        }
    }
}
