import ConfigFile
import Logging
import Wire

// Sampling: every sensor on its own interval (`Sampler`), each batch of
// readings signed into one Telemetry message and spooled.
extension AgentRuntime {
    func sampleUntilStopped() async {
        let sampler = Sampler(sensors: dependencies.sensors, clock: timing)
        let watchdogEvery = dependencies.notifier.watchdogMicroseconds.map { Duration.microseconds(Int64($0 / 2)) }
        // A read under way for a whole watchdog period is a hung bus: stop
        // feeding the watchdog, so systemd restarts the daemon.
        let stallLimit = dependencies.notifier.watchdogMicroseconds.map { Duration.microseconds(Int64($0)) } ?? .seconds(60)
        let wakeEvery = watchdogEvery ?? .seconds(5)
        await withDiscardingTaskGroup { group in
            group.addTask { await sampler.run() }
            // Wakes the loop below when no reading comes (watchdog, status file).
            group.addTask {
                while true {
                    do { try await self.timing.sleep(for: wakeEvery, tolerance: nil) } catch { return }
                    sampler.wake()
                }
            }
            var lastStatusWrite: C.Instant?
            var reportedStall: [String] = []
            while !Task.isCancelled {
                let results: [Sampler<C>.Result]
                do {
                    results = try await sampler.nextBatch()
                } catch {
                    break
                }
                if !results.isEmpty { handle(results) }
                for lag in sampler.takeLags() { report(lag) }
                live.withLock { state in
                    for (sensor, pace) in zip(dependencies.sensors, sampler.paces) {
                        state.sensors[sensor.name]?.pace = DeviceStatus.Sensor.Pace(pace)
                    }
                }
                let stalled = sampler.stalled(longerThan: stallLimit)
                if watchdogEvery != nil, stalled.isEmpty { dependencies.notifier.watchdog() }
                if !stalled.isEmpty, stalled != reportedStall {
                    logger.error("a sensor read has not returned (a hung bus or kernel driver); the watchdog is no longer fed, so systemd restarts the daemon",
                                 metadata: ["sensors": "\(stalled.joined(separator: ","))", "for_more_than": "\(DurationText.format(stallLimit))"])
                }
                reportedStall = stalled
                if lastStatusWrite.map({ $0.duration(to: timing.now) >= .seconds(1) }) ?? true {
                    writeStatus()
                    lastStatusWrite = timing.now
                }
            }
            group.cancelAll()
        }
    }

    /// Says once that a sensor cannot keep its interval, and what to set instead.
    private func report(_ lag: Sampler<C>.Lag) {
        let took = lag.pace.lastReadDuration.map { DurationText.format($0) } ?? "?"
        var metadata: Logger.Metadata = ["sensor": "\(lag.sensor.name)", "interval": "\(DurationText.format(lag.pace.interval))", "read_took": "\(took)"]
        let rate = 1 / Sampler<C>.seconds(lag.period)
        metadata["reads_per_second"] = "\((rate * 100).rounded() / 100)"
        logger.warning("sensor cannot keep its interval: one read takes longer; it is read as often as it can be (see `fieldproof status`), the others keep theirs; set its interval to at least the read time", metadata: metadata)
    }

    func handle(_ results: [Sampler<C>.Result]) {
        let clock = dependencies.clock.now()
        var readings: [Telemetry.Reading] = []
        var statuses: [Telemetry.SensorStatus] = []
        var anySuccess = false
        live.withLock { state in
            for result in results {
                var entry = state.sensors[result.sensor.name] ?? DeviceStatus.Sensor(name: result.sensor.name, driver: result.sensor.driver)
                switch result.outcome {
                case let .readings(values):
                    anySuccess = true
                    readings += values
                    statuses.append(Telemetry.SensorStatus(sensor: result.sensor.name, errorCode: nil))
                    entry.lastReadAt = clock.unixMilliseconds
                    entry.readings = values.map { .init(quantity: $0.quantity, value: $0.value, unit: $0.unit) }
                case let .failure(code, message):
                    statuses.append(Telemetry.SensorStatus(sensor: result.sensor.name, errorCode: code))
                    entry.lastError = message
                    entry.lastErrorAt = clock.unixMilliseconds
                }
                state.sensors[result.sensor.name] = entry
            }
        }
        for result in results {
            if case let .failure(code, message) = result.outcome {
                logger.warning("sensor failed", metadata: ["sensor": "\(result.sensor.name)", "code": "\(code)", "reason": "\(message)"])
            }
        }
        if anySuccess { markReady() }
        guard let signer = dependencies.signer else { return }

        // One message per tick, split only when it would carry too many readings.
        let limit = configuration.publishing.maximumReadingsPerMessage
        var chunks: [[Telemetry.Reading]] = stride(from: 0, to: readings.count, by: limit).map { Array(readings[$0..<min($0 + limit, readings.count)]) }
        if chunks.isEmpty { chunks = [[]] }
        for (index, chunk) in chunks.enumerated() {
            do {
                let sequence = try counter.withLock { try $0.take() }
                let oldest = spool.statistics.oldestSequence ?? sequence
                let draft = TelemetryDraft(serial: configuration.serial, sequence: sequence, floor: min(oldest, sequence) - 1,
                                           clock: clock, readings: chunk, statuses: index == 0 ? statuses : [], logSize: logAudit?.heldSize)
                let message = try signer.sign(draft)
                try spool.append(sequence: sequence, payload: message)
                live.withLock { $0.lastSequence = sequence }
                engine.kick()
            } catch {
                logger.error("could not spool a reading", metadata: ["reason": "\(error)"])
            }
        }
    }
}
