import Aggregator
@_spi(Benchmark) import AggregatorStore
import ArgumentParser
import Crypto
import Foundation
import TestSupport
import Wire
import LinuxService

/// What the transparency log costs the store (issue 16): verified messages
/// committed per second, in the aggregator's batches, into each store with
/// the log and into the same store without it, in interleaved rounds of
/// the same run. Without the log: SQLite built not to append; on
/// PostgreSQL the append function replaced by one that does nothing, in
/// that benchmark's own server. Goal: with the log ≥ 0.9 of without. Also
/// prints proof sizes at the log size reached.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Store commits/s with the transparency log against without it.")

    @Option(help: "Messages per store.") var count = 36_000
    @Option(help: "Devices sending them.") var devices = 50
    @Option(help: "Messages per commit (the aggregator's batch).") var batch = 64
    @Option(help: "Interleaved rounds; the ratio is their median (one round's ratio varies by up to ±10 % here, with fsync).") var rounds = 9
    @Flag(help: "Skip PostgreSQL.") var sqliteOnly = false

    func run() async throws {
        let keys = (0..<devices).map { _ in Curve25519.Signing.PrivateKey() }
        let now = WallClock.milliseconds()
        var messages: [StoredMessage] = []
        for sequence in 1...(count / devices) {
            for (index, key) in keys.enumerated() {
                let telemetry = Telemetry(serial: String(format: "bench-%03d", index), sequence: UInt64(sequence), floor: 0,
                                          timestamp: now + UInt64(sequence), clockSynchronised: true, bootID: [UInt8](repeating: 1, count: 16),
                                          millisecondsSinceBoot: UInt64(sequence),
                                          readings: [.init(sensor: "air", quantity: "temperature", value: 290 + Double(sequence % 9), unit: "K"),
                                                     .init(sensor: "air", quantity: "relative_humidity", value: 45, unit: "%"),
                                                     .init(sensor: "air", quantity: "pressure", value: 101_325, unit: "Pa")],
                                          statuses: [.init(sensor: "air", errorCode: nil)], logSize: UInt64(sequence))
                let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
                messages.append(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)),
                                              receivedAt: Int64(now)))
            }
        }
        print("Log: \(messages.count) verified Telemetry (\(messages[0].raw.count) bytes) from \(devices) devices, commits of \(batch), \(rounds) interleaved rounds")
        let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
        let directory = NSTemporaryDirectory() + "fieldproof-log-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let logged = try SQLiteStore(path: directory + "/logged.sqlite", calendar: calendar)
        let unlogged = try SQLiteStore(path: directory + "/unlogged.sqlite", calendar: calendar, appendsToLog: false)
        try await compare("SQLite", logged: logged, unlogged: unlogged, messages: messages)
        try await proofSizes(logged)

        guard !sqliteOnly else { return }
        let withLog = try await PostgresServer.started()
        defer { withLog.stop() }
        let withoutLog = try await PostgresServer.started()
        defer { withoutLog.stop() }
        let pgLogged = try await PostgresStore(url: withLog.url, calendar: calendar)
        defer { pgLogged.close() }
        let pgUnlogged = try await PostgresStore(url: withoutLog.url, calendar: calendar)
        defer { pgUnlogged.close() }
        let noAppend = try await ProcessRunner.run("/usr/bin/psql", [withoutLog.url, "-v", "ON_ERROR_STOP=1", "-c", """
            CREATE OR REPLACE FUNCTION fieldproof_log_append_batch(p_entries BYTEA[], p_serials TEXT[], p_sequences BIGINT[]) RETURNS VOID
            LANGUAGE plpgsql AS $$ BEGIN END $$
            """])
        guard noAppend.status == 0 else { throw ValidationError("could not replace the log append: \(noAppend.output)") }
        try await compare("PostgreSQL", logged: pgLogged, unlogged: pgUnlogged, messages: messages)
    }

    func compare(_ name: String, logged: any AggregatorDataStore, unlogged: any AggregatorDataStore, messages: [StoredMessage]) async throws {
        let slice = messages.count / rounds
        var withRates: [Double] = [], withoutRates: [Double] = [], ratios: [Double] = []
        for round in 0..<rounds {
            let part = Array(messages[(round * slice)..<((round + 1) * slice)])
            // Alternate which goes first, so neither always meets a warm cache.
            let order = round % 2 == 0 ? [true, false] : [false, true]
            var rates: [Bool: Double] = [:]
            for withLog in order { rates[withLog] = try await rate(withLog ? logged : unlogged, part) }
            let (with, without) = (rates[true] ?? 0, rates[false] ?? 1)
            withRates.append(with); withoutRates.append(without); ratios.append(with / without)
        }
        guard try await logged.logSize() == UInt64(slice * rounds), try await unlogged.logSize() == 0 else {
            throw ValidationError("\(name): the stores did not log what they were meant to")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print(String(format: "  %@ without the log   %8.0f messages/s (median)", name, median(withoutRates)))
        print(String(format: "  %@ with the log      %8.0f messages/s   ratio %.2f vs without (goal >= 0.90)", name, median(withRates), median(ratios)))
    }

    func rate(_ store: any AggregatorDataStore, _ messages: [StoredMessage]) async throws -> Double {
        let start = ContinuousClock.now
        var index = 0
        while index < messages.count {
            let end = min(index + batch, messages.count)
            let results = try await store.commit(batch: Array(messages[index..<end]))
            guard results.allSatisfy({ $0.outcome == .stored }) else { throw ValidationError("a message was not stored") }
            index = end
        }
        let elapsed = ContinuousClock.now - start
        return Double(messages.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Proof lengths (and bytes as a receipt carries them) at the size reached.
    func proofSizes(_ store: any AggregatorDataStore) async throws {
        let size = try await store.logSize()
        let proofs = store.logProofs(size: size)
        let inclusion = try await proofs.inclusionProof(index: size / 3) ?? []
        let consistency = try await proofs.consistencyProof(from: size / 3) ?? []
        print("  proofs at \(size) entries: inclusion \(inclusion.count) hashes (\(inclusion.count * 34) bytes in CBOR), "
              + "consistency from \(size / 3) \(consistency.count) hashes (\(consistency.count * 34) bytes)")
    }
}
