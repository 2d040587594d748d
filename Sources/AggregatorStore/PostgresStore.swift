import Aggregator
import Crypto
import Foundation
import Identity
import Logging
import PostgresNIO
import Wire
import LinuxService

/// The store for more than one machine: PostgreSQL through PostgresNIO.
/// Several aggregators share one database (and split the MQTT stream
/// through one `$share` group), so every write that reads before it writes
/// takes a lock: the device row (`FOR UPDATE`) for commits and pairing, and
/// an advisory lock per epoch that commits hold shared and sealing holds
/// exclusive, so a root never misses a message committed into its epoch.
public final class PostgresStore: AggregatorDataStore, Sendable {
    public typealias Accepted = StoredMessage

    let client: PostgresClient
    let runner: Task<Void, Never>
    public let calendar: EpochCalendar
    let logger: Logger

    /// Connects (the pool runs until `close()`) and creates the schema when
    /// it is missing. `url`: `postgres://user[:password]@host[:port]/database`.
    public init(url: String, calendar: EpochCalendar, logger: Logger = Logger(label: "fieldproof-postgres")) async throws {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw PostgresStoreError.badURL(url)
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var configuration = PostgresClient.Configuration(host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
                                                         password: components.password, database: database.isEmpty ? nil : database,
                                                         tls: .disable)
        configuration.options.maximumConnections = 8
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let client = client
        runner = Task { await client.run() }
        self.calendar = calendar
        self.logger = logger
        try await createSchema()
    }

    public func close() {
        runner.cancel()
    }

    // MARK: - Committing

    /// Through the batch function, which also appends to the transparency log.
    public func commit(_ message: StoredMessage) async throws -> CommitResult {
        guard let result = try await commit(batch: [message]).first else { throw PostgresStoreError.noResult("fieldproof_commit_batch") }
        return result
    }

    /// Batches from several aggregators and connections run at once.
    public var parallelCommits: Int { 4 }

    /// Group commit: the batch's messages in one statement (one round trip,
    /// one transaction, one WAL flush). They go in (serial, sequence) order,
    /// so two batches lock device rows in the same order and cannot
    /// deadlock each other.
    public func commit(batch messages: [StoredMessage]) async throws -> [CommitResult] {
        for message in messages { try MessageTiming.check(message) }
        // Ties (two copies of one sequence) keep their order: the first is
        // stored, a later one with other bytes is the conflict.
        let order = messages.indices.sorted {
            (messages[$0].serial, messages[$0].sequence, $0) < (messages[$1].serial, messages[$1].sequence, $1)
        }
        let sorted = order.map { messages[$0] }
        let readings = sorted.flatMap(\.readings)
        let rows = try await client.query("""
            SELECT outcome, new_highest FROM fieldproof_commit_batch(\(sorted.map(\.serial)), \(sorted.map { Int64(bitPattern: $0.sequence) }),
                \(sorted.map { Int64(bitPattern: $0.floor) }), \(sorted.map { ByteBuffer(bytes: $0.raw) }), \(sorted.map { ByteBuffer(bytes: $0.hash) }),
                \(sorted.map(\.timestamp)), \(sorted.map(\.receivedAt)), \(calendar.lengthMilliseconds), \(sorted.map(\.clockSynchronised)),
                \(sorted.map { ByteBuffer(bytes: $0.bootID) }), \(sorted.map(\.millisecondsSinceBoot)), \(sorted.map { Int64($0.readings.count) }),
                \(readings.map(\.metric)), \(readings.map(\.unit)), \(readings.map(\.value)))
            """, logger: logger).collect()
        guard rows.count == messages.count else { throw PostgresStoreError.noResult("fieldproof_commit_batch") }
        var results = [CommitResult](repeating: CommitResult(.duplicate, highestContiguous: 0), count: messages.count)
        for (position, index) in order.enumerated() { results[index] = try Self.commitResult([rows[position]]) }
        return results
    }

    private static func commitResult(_ rows: [PostgresRow]) throws -> CommitResult {
        guard let (outcome, highest) = try rows.first?.decode((String, Int64).self) else { throw PostgresStoreError.noResult("fieldproof_commit") }
        let known: [String: CommitResult.Outcome] = ["stored": .stored, "duplicate": .duplicate, "conflict": .conflict]
        guard let value = known[outcome] else { throw PostgresStoreError.noResult("fieldproof_commit (outcome \(outcome))") }
        return CommitResult(value, highestContiguous: UInt64(clamping: highest))
    }

    public func recordRejection(serial: String?, reason: String) async throws {
        let minute = Int64(WallClock.milliseconds()) / 60_000 * 60_000
        // One statement (one round trip): both counters in one transaction.
        try await client.query("""
            WITH per_device AS (
                INSERT INTO rejection (serial, reason, count) VALUES (\(serial ?? ""), \(reason), 1)
                ON CONFLICT (serial, reason) DO UPDATE SET count = rejection.count + 1 RETURNING 1)
            INSERT INTO rejection_minute (minute, count) VALUES (\(minute), 1)
            ON CONFLICT (minute) DO UPDATE SET count = rejection_minute.count + 1
            """, logger: logger)
    }

    // MARK: - Keys

    public func deviceKeys(serial: String) async throws -> DeviceKeys? {
        // One round trip: the device (if any) and each of its keys.
        let rows = try await client.query("""
            SELECT d.revoked, k.key_id, k.public_key, k.retired FROM device d LEFT JOIN device_key k ON k.serial = d.serial
            WHERE d.serial = \(serial)
            """, logger: logger).collect()
        guard let first = rows.first else { return nil }
        let revoked = try first.decode((Bool, Data?, Data?, Bool?).self).0
        var current: Curve25519.Signing.PublicKey?
        var retired: Set<[UInt8]> = []
        for row in rows {
            let (_, keyID, publicKey, isRetired) = try row.decode((Bool, Data?, Data?, Bool?).self)
            guard let keyID, let publicKey, let isRetired else { continue }
            if isRetired { retired.insert(Array(keyID)) } else { current = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) }
        }
        return DeviceKeys(current: current, retiredKeyIDs: retired, revoked: revoked)
    }

    public func isStored(serial: String, sequence: UInt64) async throws -> Bool {
        try await !client.query("SELECT 1 FROM message WHERE serial = \(serial) AND sequence = \(Int64(bitPattern: sequence))", logger: logger)
            .collect().isEmpty
    }

    // MARK: - Epochs

    public func closableEpochs(now: Int64) async throws -> [Int64] {
        guard let last = calendar.lastClosable(at: now) else { return [] }
        return try await client.query("""
            SELECT DISTINCT merkle_epoch FROM message WHERE merkle_epoch <= \(last)
            AND merkle_epoch NOT IN (SELECT start FROM epoch) ORDER BY merkle_epoch
            """, logger: logger).collect().map { try $0.decode(Int64.self) }
    }

    public func seal(epochStart: Int64, key: Curve25519.Signing.PrivateKey, now: Int64) async throws -> (root: EpochRoot, signed: [UInt8])? {
        let calendar = calendar, logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            // Waits for commits into this epoch to finish; later ones see the seal.
            try await connection.query("SELECT pg_advisory_xact_lock(\(epochStart))", logger: logger)
            guard try await connection.query("SELECT 1 FROM epoch WHERE start = \(epochStart)", logger: logger).collect().isEmpty else {
                return nil
            }
            let hashes = try await Self.hashes(connection, epochStart: epochStart, logger: logger)
            let root = EpochRoot(id: calendar.id(ofEpochStartingAt: epochStart), start: UInt64(epochStart),
                                 end: UInt64(calendar.end(ofEpochStartingAt: epochStart)), messageCount: UInt64(hashes.count),
                                 root: EpochTree.root(hashes.map(EpochTree.leafHash)), time: UInt64(now))
            let signed = try COSESign1.sign(payload: root.encode(), with: key, keyID: KeyID.of(key.publicKey))
            // The log's lock (after the epoch's, the order commits take them
            // in): every commit logged before this summary is visible to
            // the tally read, and none logged after it is.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.logLock))", logger: logger)
            let size = try await Self.logSize(connection, logger: logger)
            var tallies: [EpochSummaryEntry.Tally] = []
            let rows = try await connection.query("""
                SELECT serial, metric, unit, count, minimum, maximum FROM tally WHERE epoch_start = \(epochStart)
                """, logger: logger)
            for try await (serial, metric, unit, count, minimum, maximum) in rows.decode((String, String, String, Int64, Double, Double).self) {
                tallies.append(.init(serial: serial, metric: metric, unit: unit, count: UInt64(clamping: count), minimum: minimum, maximum: maximum))
            }
            let summary = EpochSummaryEntry(epoch: root, logSize: size, tallies: tallies)
            try await Self.appendRecordToLog(connection, entry: try summary.signed(by: key), logger: logger)
            try await connection.query("""
                INSERT INTO epoch (start, id, end_ms, message_count, root, signed, aggregator_key, sealed_at)
                VALUES (\(epochStart), \(root.id), \(Int64(root.end)), \(Int64(hashes.count)), \(Data(root.root)), \(Data(signed)),
                        \(Data(key.publicKey.rawRepresentation)), \(now))
                """, logger: logger)
            return (root, signed)
        }
    }

    public func messageHashes(epochStart: Int64) async throws -> [[UInt8]] {
        let logger = logger
        return try await client.withConnection { connection in try await Self.hashes(connection, epochStart: epochStart, logger: logger) }
    }

    static func hashes(_ connection: PostgresConnection, epochStart: Int64, logger: Logger) async throws -> [[UInt8]] {
        // Bytewise order (COLLATE does not apply to bytea): the same as SQLite's.
        try await connection.query("SELECT hash FROM message WHERE merkle_epoch = \(epochStart) ORDER BY hash", logger: logger)
            .collect().map { Array(try $0.decode(Data.self)) }
    }

    public func exportMessages(serial: String?, _ body: @Sendable (ExportedMessage) throws -> Void) async throws {
        let rows = try await client.query("""
            SELECT serial, sequence, received_at, hash, raw FROM message WHERE \(serial == nil) OR serial = \(serial ?? "")
            ORDER BY serial, sequence
            """, logger: logger)
        for try await (serial, sequence, receivedAt, hash, raw) in rows.decode((String, Int64, Int64, Data, Data).self) {
            try body(ExportedMessage(serial: serial, sequence: UInt64(bitPattern: sequence), receivedAt: receivedAt, hash: Array(hash), raw: Array(raw)))
        }
    }
}

public enum PostgresStoreError: Error, CustomStringConvertible {
    case badURL(String)
    case noResult(String)

    public var description: String {
        switch self {
        case let .badURL(url): return "\"\(url)\" is not a postgres://user@host:port/database URL"
        case let .noResult(what): return "\(what) returned no row"
        }
    }
}
