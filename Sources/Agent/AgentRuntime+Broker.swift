import LinuxService
import Logging
import MQTT
import Synchronization
import Wire

/// The daemon's side of the broker: connection state, the retained
/// availability message, and the aggregator's acknowledgements.
extension AgentRuntime {
    func watchConnection() async {
        for await state in client.connectionStates {
            switch state {
            case .connected:
                live.withLock { $0.brokerConnected = true; $0.brokerError = nil; $0.brokerSince = WallClock.milliseconds() }
                logger.info("connected to broker", metadata: ["broker": "\(configuration.broker.host):\(configuration.broker.port)"])
                dependencies.notifier.status("connected to \(configuration.broker.host):\(configuration.broker.port)")
                Task { await self.announceOnline() }
                await engine.connectionRestored()
            case let .disconnected(reason):
                live.withLock { $0.brokerConnected = false; $0.brokerError = reason; $0.brokerSince = WallClock.milliseconds() }
                logger.warning("broker unavailable; readings stay in the spool", metadata: ["reason": "\(reason)"])
                dependencies.notifier.status("broker unavailable: \(reason)")
            }
            writeStatus()
        }
    }

    func announceOnline() async {
        let statistics = spool.statistics
        let payload = AvailabilityMessage.online(version: dependencies.version, board: dependencies.board,
                                                 sensors: dependencies.sensors.map(\.name), spoolDepth: statistics.records,
                                                 dropped: statistics.droppedRecords, log: logAudit?.status(spool: statistics))
        do {
            try await client.publish(topic: statusTopic, payload: payload, qos: .atLeastOnce, retain: true)
            if dependencies.signer != nil, dependencies.ackVerifier != nil {
                try await client.subscribe(ackTopic, qos: .atLeastOnce)
                if logAudit != nil { try await client.subscribe(logReceiptTopic, qos: .atLeastOnce) }
            }
        } catch {
            logger.warning("could not announce availability", metadata: ["reason": "\(error)"])
        }
    }

    /// Verifies acknowledgements as they come and applies only the highest
    /// one waiting: applying one costs a spool update (a metadata write and
    /// a scan of the first segment), and after an outage acks arrive in
    /// hundreds. Applied one by one they fell behind the go-back-N resends
    /// that each ack delay caused (found by the 30 s broker-outage test).
    func listenForAcknowledgements() async {
        guard let verifier = dependencies.ackVerifier else { return }
        let pending = Mutex<UInt64>(0)
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let applier = Task { [engine, logger, timing] in
            var applied: UInt64 = 0
            for await _ in wakeups {
                let highest = pending.withLock { $0 }
                guard highest > applied else { continue }
                if await engine.acknowledged(upTo: highest) {
                    applied = highest
                } else {
                    // The spool could not record it (a full or failing disk):
                    // try again, or the records it covers would stay forever.
                    logger.warning("could not apply an acknowledgement; retrying", metadata: ["sequence": "\(highest)"])
                    try? await timing.sleep(for: .seconds(1))
                    wake.yield()
                }
            }
        }
        // Receipts come once per checkpoint; only the newest matters.
        let (receipts, receive) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let auditor = Task { await self.auditReceipts(receipts) }
        defer {
            wake.finish()
            applier.cancel()
            receive.finish()
            auditor.cancel()
        }
        for await message in client.messages {
            if message.topic == logReceiptTopic {
                receive.yield(message.payload)
                continue
            }
            guard message.topic == ackTopic else { continue }
            guard let sequence = verifier.acknowledgedSequence(in: message.payload, serial: configuration.serial) else {
                logger.warning("ignored an acknowledgement that does not verify", metadata: ["topic": "\(message.topic)"])
                continue
            }
            pending.withLock { $0 = max($0, sequence) }
            wake.yield()
        }
    }

    /// Checks each log receipt against the spooled bytes of the message it
    /// proves; a proven one lets the spool release records up to there.
    /// An alarm is logged, written to the status and re-announced in the
    /// availability message.
    func auditReceipts(_ receipts: AsyncStream<[UInt8]>) async {
        guard let audit = logAudit, let verifier = dependencies.logVerifier else { return }
        for await payload in receipts {
            let hadAlarm = audit.alarm != nil
            let verdict: LogReceiptVerdict
            do {
                verdict = try audit.handle(payload, serial: configuration.serial, verifier: verifier) { sequence in
                    (try? spool.record(sequence: sequence))?.payload
                }
            } catch {
                logger.warning("could not store the log view; the receipt is checked again with the next one", metadata: ["reason": "\(error)"])
                continue
            }
            switch verdict {
            case let .proven(view, sequence):
                logger.debug("log receipt verified", metadata: ["sequence": "\(sequence)", "log size": "\(view.size)"])
                do { try spool.markLogged(upTo: sequence) } catch {
                    logger.warning("could not record what the log proved; the spool keeps those records", metadata: ["reason": "\(error)"])
                }
            case let .skipped(reason):
                logger.debug("log receipt not checked", metadata: ["reason": "\(reason)"])
            case let .failed(reason):
                logger.error("the transparency log does not prove this device's data", metadata: ["reason": "\(reason)"])
                if !hadAlarm {
                    writeStatus()
                    await announceOnline()
                }
            }
        }
    }
}
