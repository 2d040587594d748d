@testable import Agent
import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import Wire

/// The daemon under broker outages, damaged and full spools, and failing
/// sensors: a real process, a real broker, simulated sensors.
@Suite(.serialized) struct RunCommandFaultTests {
    let run: RunCommandTests

    init() throws { run = try RunCommandTests() }

    func spoolSegments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: run.stateDirectory + "/spool").filter { $0.hasSuffix(".spool") }.sorted()
    }

    func status() throws -> DeviceStatus { try #require(try DeviceStatus.read(fromRuntimeDirectory: run.runtimeDirectory)) }

    @Test(.timeLimit(.minutes(3)))
    func aThirtySecondOutageOfANonPersistentBrokerLosesNothing() async throws {
        let broker = try MosquittoBroker() // no persistence: its queues die with it
        defer { broker.stop() }
        let aggregator = try await WireAggregator(broker: broker, serial: "dev-1", deviceKey: run.deviceKey.publicKey)
        defer { aggregator.close() }
        try run.pair(aggregator: aggregator)
        // 20 Hz: a BME280 and an SHT4x read every 50 ms.
        let config = try run.writeConfig(port: broker.port, interval: "50ms")
        let process = try run.daemon(config)
        defer { process.signal(SIGKILL) }
        #expect(await run.waitUntil(seconds: 20) { aggregator.sequences.count >= 20 })
        broker.stop()
        try await Task.sleep(for: .seconds(30))
        let takenDuringOutage = try status().lastSequence
        try broker.restart()
        let caughtUp = await run.waitUntil(seconds: 60) { aggregator.acknowledged >= takenDuringOutage }
        #expect(caughtUp, "acknowledged \(aggregator.acknowledged) of \(takenDuringOutage); \(run.log)")
        if !caughtUp {
            print("BROKER LOG\n" + broker.log().split(separator: "\n").suffix(40).joined(separator: "\n"))
            print("STATUS \((try? status()).map { "\($0.spool) last \($0.lastSequence) broker \($0.broker)" } ?? "-")")
        }
        let received = aggregator.sequences
        let missing = (1...takenDuringOutage).filter { !received.contains($0) }
        #expect(missing.isEmpty, "never arrived: \(missing.prefix(20))")
        #expect(takenDuringOutage > 400, "about 600 messages in 30 s at 20 Hz, got \(takenDuringOutage)")
        #expect(aggregator.reusedSequences.isEmpty)
    }

    @Test func aSpoolTruncatedInsideARecordIsRecoveredAndTheLossCounted() async throws {
        // Broker unreachable from the start: the daemon keeps sampling into the spool.
        let config = try run.writeConfig(port: try LoopbackNetwork.freePort(), interval: "50ms")
        try FileManager.default.createDirectory(atPath: run.stateDirectory, withIntermediateDirectories: true)
        try PairedIdentity(serial: "dev-1", identityKey: run.deviceKey, aggregatorKey: Curve25519.Signing.PrivateKey().publicKey).save(in: run.stateDirectory)
        let first = try run.daemon(config)
        #expect(await run.waitUntil(seconds: 20) { ((try? DeviceStatus.read(fromRuntimeDirectory: run.runtimeDirectory))??.spool.records ?? 0) >= 20 })
        #expect(await first.stop(signal: SIGTERM, timeout: 20), "SIGTERM with the broker away still exits (after the drain timeout)")
        #expect(first.exitCode == 0)
        let before = try status().spool.records
        let segment = run.stateDirectory + "/spool/" + (try #require(try spoolSegments().last))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
        #expect(truncate(segment, off_t(size - 7)) == 0, "cut the last record in half")

        let second = try run.daemon(config)
        defer { second.signal(SIGKILL) }
        #expect(await run.waitUntil(seconds: 20) { ((try? DeviceStatus.read(fromRuntimeDirectory: run.runtimeDirectory))??.spool.truncatedTails ?? 0) >= 1 }, "\(run.log)")
        #expect(second.isRunning, "a torn tail is not fatal")
        let after = try status()
        #expect(after.spool.records >= before - 1, "only the torn record is gone")
        #expect(after.lastSequence > 0)
    }

    @Test func aFullSpoolDropsTheOldestAndCountsThem() async throws {
        let config = try run.writeConfig(port: try LoopbackNetwork.freePort(), interval: "10ms", extra: """
            spool:
              max_bytes: 8KiB
              segment_bytes: 4KiB
            """)
        try FileManager.default.createDirectory(atPath: run.stateDirectory, withIntermediateDirectories: true)
        try PairedIdentity(serial: "dev-1", identityKey: run.deviceKey, aggregatorKey: Curve25519.Signing.PrivateKey().publicKey).save(in: run.stateDirectory)
        let process = try run.daemon(config)
        defer { process.signal(SIGKILL) }
        #expect(await run.waitUntil(seconds: 30) { ((try? DeviceStatus.read(fromRuntimeDirectory: run.runtimeDirectory))??.spool.droppedRecords ?? 0) >= 10 }, "\(run.log)")
        let spool = try status()
        #expect(spool.spool.bytes <= 8192)
        // Nothing was acknowledged, so every sequence taken is either still spooled or counted as dropped.
        // (The status file is written after each tick, so allow the tick in flight.)
        let accounted = UInt64(spool.spool.records) + spool.spool.droppedRecords
        #expect(accounted == spool.lastSequence, "\(spool.spool.records) spooled + \(spool.spool.droppedRecords) dropped vs last sequence \(spool.lastSequence)")
        #expect(spool.spool.oldestSequence.map { $0 > 1 } ?? false, "the oldest were dropped first")
    }

    @Test func aFailingSensorIsReportedWhileTheOthersGoOn() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let aggregator = try await WireAggregator(broker: broker, serial: "dev-1", deviceKey: run.deviceKey.publicKey)
        defer { aggregator.close() }
        try run.pair(aggregator: aggregator)
        let config = try run.writeConfig(port: broker.port, interval: "100ms")
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text += "\n  - name: ghost\n    driver: sht3x\n    address: 0x44\n    interval: 100ms\n"
        // 0x44 is the SHT4x: an SHT3x driver there gets no valid serial.
        text = text.replacingOccurrences(of: "address: 0x44", with: "address: 0x46")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let process = try run.daemon(config)
        defer { process.signal(SIGKILL) }
        #expect(await run.waitUntil(seconds: 20) { aggregator.sequences.count >= 5 })
        let status = try status()
        let ghost = try #require(status.sensors.first { $0.name == "ghost" })
        #expect(ghost.lastError?.contains("no acknowledge from 0x46") == true, "\(ghost)")
        #expect(status.sensors.first { $0.name == "air" }?.readings.isEmpty == false)
        // The signed messages carry the failure as its wire code, the air sensor as ok.
        let statuses = aggregator.signedMessages.values.compactMap { bytes in
            (try? COSESign1(decoding: bytes)).flatMap { try? Telemetry(decoding: $0.payload) }
        }.flatMap(\.statuses)
        #expect(statuses.contains(Telemetry.SensorStatus(sensor: "ghost", errorCode: "no-ack")), "\(statuses.prefix(4))")
        #expect(statuses.contains(Telemetry.SensorStatus(sensor: "air", errorCode: nil)))
    }
}
