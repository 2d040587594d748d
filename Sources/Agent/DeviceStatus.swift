import FoundationEssentials
import LinuxService

/// What `fieldproof status` shows: the daemon rewrites it (atomically) in
/// its runtime directory, so the command works without talking to the daemon.
public struct DeviceStatus: Codable, Equatable, Sendable {
    public struct Broker: Codable, Equatable, Sendable {
        public var address: String
        public var connected: Bool
        public var lastError: String?
        public var since: UInt64?

        public init(address: String, connected: Bool, lastError: String? = nil, since: UInt64? = nil) {
            self.address = address
            self.connected = connected
            self.lastError = lastError
            self.since = since
        }
    }

    public struct Sensor: Codable, Equatable, Sendable {
        public struct Reading: Codable, Equatable, Sendable {
            public var quantity: String
            public var value: Double
            public var unit: String

            public init(quantity: String, value: Double, unit: String) {
                self.quantity = quantity
                self.value = value
                self.unit = unit
            }
        }

        public var name: String
        public var driver: String
        public var lastReadAt: UInt64?
        public var readings: [Reading]
        public var lastError: String?
        public var lastErrorAt: UInt64?
        /// How it keeps its interval (nil before its first read, and in reports of earlier releases).
        public var pace: Pace?

        /// The interval a sensor is configured for and the rate it is really read at.
        public struct Pace: Codable, Equatable, Sendable {
            public var intervalMilliseconds: Int64
            public var readsPerSecond: Double?
            /// Its last read took longer than its interval.
            public var behind: Bool
            public var skippedSlots: UInt64
            public var lastReadMilliseconds: Int64?

            public init(intervalMilliseconds: Int64, readsPerSecond: Double?, behind: Bool, skippedSlots: UInt64, lastReadMilliseconds: Int64?) {
                self.intervalMilliseconds = intervalMilliseconds
                self.readsPerSecond = readsPerSecond
                self.behind = behind
                self.skippedSlots = skippedSlots
                self.lastReadMilliseconds = lastReadMilliseconds
            }
        }

        public init(name: String, driver: String, lastReadAt: UInt64? = nil, readings: [Reading] = [],
                    lastError: String? = nil, lastErrorAt: UInt64? = nil, pace: Pace? = nil) {
            self.name = name
            self.driver = driver
            self.lastReadAt = lastReadAt
            self.readings = readings
            self.lastError = lastError
            self.lastErrorAt = lastErrorAt
            self.pace = pace
        }
    }

    public struct Spool: Codable, Equatable, Sendable {
        public var records: Int
        public var bytes: Int
        public var oldestAgeSeconds: Double?
        public var droppedRecords: UInt64
        public var truncatedTails: UInt64
        public var lastAcknowledged: UInt64
        /// The sequence of the oldest record still spooled.
        public var oldestSequence: UInt64?

        public init(_ statistics: SpoolStatistics, now: UInt64) {
            records = statistics.records
            bytes = statistics.bytes
            oldestAgeSeconds = statistics.oldestAppendedAt.map { Double(now > $0 ? now - $0 : 0) / 1000 }
            droppedRecords = statistics.droppedRecords
            truncatedTails = statistics.truncatedTails
            lastAcknowledged = statistics.acknowledgedUpTo
            oldestSequence = statistics.oldestSequence
        }
    }

    /// What the sequence numbers up to `lastSequence` went to
    /// (`SequenceLedger`): `signed` messages, and `skipped` numbers a run
    /// reserved but ended before using. Each signed message is accepted once.
    public struct Sequences: Codable, Equatable, Sendable {
        public var first: UInt64?
        public var signed: UInt64
        public var skipped: UInt64

        public init(first: UInt64?, signed: UInt64, skipped: UInt64) {
            self.first = first
            self.signed = signed
            self.skipped = skipped
        }
    }

    /// The device's audit of its data in the transparency log (nil: it
    /// audits none).
    public struct Log: Codable, Equatable, Sendable {
        public var origin: String?
        /// The newest checkpoint verified: its size and base64 root.
        public var size: UInt64
        public var root: String?
        /// The newest of this device's sequences proven in the log.
        public var provenSequence: UInt64
        public var lastProvenAt: UInt64?
        /// Receipts verified since the daemon started.
        public var receipts: UInt64
        /// Acknowledged records the spool keeps until a receipt proves them.
        public var unprovenRecords: Int
        public var unprovenDropped: UInt64
        /// Why the last receipt could not be checked (not an alarm).
        public var lastSkipped: String?
        /// Set when the aggregator signed a receipt that fails.
        public var alarm: String?
        public var alarmAt: UInt64?

        public init(origin: String?, size: UInt64, root: String?, provenSequence: UInt64, lastProvenAt: UInt64?, receipts: UInt64,
                    unprovenRecords: Int, unprovenDropped: UInt64, lastSkipped: String?, alarm: String?, alarmAt: UInt64?) {
            self.origin = origin
            self.size = size
            self.root = root
            self.provenSequence = provenSequence
            self.lastProvenAt = lastProvenAt
            self.receipts = receipts
            self.unprovenRecords = unprovenRecords
            self.unprovenDropped = unprovenDropped
            self.lastSkipped = lastSkipped
            self.alarm = alarm
            self.alarmAt = alarmAt
        }
    }

    public var version: String
    public var serial: String
    public var pid: Int32
    public var updatedAt: UInt64
    public var paired: Bool
    public var keyID: String?
    public var board: String?
    public var clockSynchronised: Bool
    public var lastSequence: UInt64
    /// nil in a status written before the ledger.
    public var sequences: Sequences?
    public var broker: Broker
    public var sensors: [Sensor]
    public var spool: Spool
    public var log: Log?

    public init(version: String, serial: String, pid: Int32, updatedAt: UInt64, paired: Bool, keyID: String?, board: String?,
                clockSynchronised: Bool, lastSequence: UInt64, sequences: Sequences? = nil, broker: Broker, sensors: [Sensor], spool: Spool,
                log: Log? = nil) {
        self.version = version
        self.serial = serial
        self.pid = pid
        self.updatedAt = updatedAt
        self.paired = paired
        self.keyID = keyID
        self.board = board
        self.clockSynchronised = clockSynchronised
        self.lastSequence = lastSequence
        self.sequences = sequences
        self.broker = broker
        self.sensors = sensors
        self.spool = spool
        self.log = log
    }

    /// `<runtime_directory>/status.json` (`/run/fieldproof`: tmpfs, made
    /// by systemd's `RuntimeDirectory=`), not the state directory: it is
    /// rewritten every second, and durable state stays where wear counts.
    public static func path(inRuntimeDirectory directory: String) -> String { directory + "/status.json" }

    /// Writes the status atomically (temporary file + rename in the same
    /// directory: readers never see half a file) and without fsync: it is
    /// runtime state, recreated every second, on tmpfs; a power cut losing
    /// it loses nothing (the next daemon writes a new one).
    public func write(toRuntimeDirectory directory: String) throws {
        try write(toRuntimeDirectory: directory, sync: FileIO.fsync)
    }

    /// `write(toRuntimeDirectory:)` with the fsync it must not call, for tests.
    func write(toRuntimeDirectory directory: String, sync: FileIO.Sync) throws {
        try FileIO.writeAtomically(Self.path(inRuntimeDirectory: directory), try encoded(), mode: 0o644,
                                   durability: .runtime, sync: sync)
    }

    /// The status file's bytes: this type through `JSONEncoder`, the codec
    /// `read` decodes with (nil fields left out). A reading whose value is
    /// not a finite number is left out: JSON cannot carry it.
    func encoded() throws -> [UInt8] {
        var finite = self
        for index in finite.sensors.indices { finite.sensors[index].readings.removeAll { !$0.value.isFinite } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(finite)) + Array("\n".utf8)
    }

    /// The most a status file may hold: a few KiB per sensor in practice;
    /// anything far larger is not one the daemon wrote.
    static let maximumFileBytes = 1 << 20

    /// Reads the status the daemon wrote; nil when there is none yet. A
    /// file that is not a status report (truncated, edited, hostile) throws
    /// `DeviceStatusError.unreadable`, naming the file and what is wrong.
    public static func read(fromRuntimeDirectory directory: String) throws -> DeviceStatus? {
        let path = path(inRuntimeDirectory: directory)
        let bytes: [UInt8]
        do {
            guard let read = try FileIO.readFile(path, limit: maximumFileBytes) else { return nil }
            bytes = read
        } catch {
            throw DeviceStatusError.unreadable(path: path, reason: error.description)
        }
        do {
            return try JSONDecoder().decode(DeviceStatus.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw DeviceStatusError.unreadable(path: path, reason: DeviceStatusError.explain(error))
        }
    }
}
