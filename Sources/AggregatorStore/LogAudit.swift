import Aggregator
import Crypto
import TransparencyLog
import Wire

/// Replays the transparency log from its first entry, trusting nothing the
/// aggregator keeps beside it (issue 16 item 5): which key speaks for a
/// device is learnt from the log's own key events (signed by the log's
/// key), every message's signature is checked against the key bound at
/// its place in the log, and the tallies are recomputed the way the
/// stores make them (`MessageTiming`: a message counts at its device time,
/// an unsynchronised one once a synchronised message of its boot anchors
/// it). What the aggregator serves can then be compared with `tallies`.
public struct LogAudit {
    /// The first entry that does not hold, by its log index.
    public struct Finding: Error, CustomStringConvertible, Equatable {
        public var index: UInt64
        public var problem: String
        public var description: String { "log entry \(index): \(problem)" }
    }

    private struct Device {
        var key: Curve25519.Signing.PublicKey?
        var retired: Set<[UInt8]> = []
        var revoked = false
        /// As its latest pairing declared them: what the quality scores
        /// count samples against.
        var sensors: [(name: String, intervalMilliseconds: Int64)] = []
    }

    private struct DeviceEpoch: Hashable {
        var serial: String
        var epochStart: Int64
    }

    private struct BootKey: Hashable {
        var serial: String
        var bootID: [UInt8]
    }

    private struct MessageKey: Hashable {
        var serial: String
        var sequence: UInt64
    }

    private let aggregatorKey: Curve25519.Signing.PublicKey
    private let calendar: EpochCalendar
    private var devices: [String: Device] = [:]
    private var logged: Set<MessageKey> = []
    private var anchors: [BootKey: Int64] = [:]
    private var waiting: [BootKey: [StoredMessage]] = [:]
    private var rows: [TallyKey: TallyRow] = [:]
    private var samples: [DeviceEpoch: QualitySamples] = [:]
    public private(set) var entries: UInt64 = 0
    public private(set) var messages: UInt64 = 0
    public private(set) var keyEvents: UInt64 = 0
    /// Sealed epochs whose summary matched, by epoch start.
    public private(set) var sealedEpochs: [UInt64] = []

    public init(aggregatorKey: Curve25519.Signing.PublicKey, calendar: EpochCalendar) {
        self.aggregatorKey = aggregatorKey
        self.calendar = calendar
    }

    /// The recomputed tallies, in the API's order (serial, metric, epoch).
    public var tallies: [TallyRow] {
        rows.values.sorted { ($0.serial, $0.metric, $0.epochStart) < ($1.serial, $1.metric, $1.epochStart) }
    }

    /// The quality scores recomputed from the log, per device and epoch
    /// (serial, then epoch), against the sensors each device's latest
    /// pairing declared, as the API scores them.
    public var quality: [DeviceQuality] {
        samples.keys.sorted { ($0.serial, $0.epochStart) < ($1.serial, $1.epochStart) }.compactMap { key in
            samples[key]?.quality(serial: key.serial, epochStart: key.epochStart, epochEnd: calendar.end(ofEpochStartingAt: key.epochStart),
                                  intervals: devices[key.serial]?.sensors ?? [])
        }
    }

    /// Takes the next entry of the log.
    public mutating func append(_ entry: [UInt8]) throws(Finding) {
        let index = entries
        func finding(_ problem: String) -> Finding { Finding(index: index, problem: problem) }
        let envelope: COSESign1
        let type: UInt64?
        do {
            envelope = try COSESign1(decoding: entry)
            type = try CBORDecoder.decode(envelope.payload)[0]?.uint64
        } catch {
            throw finding("not a signed Fieldproof message: \(error)")
        }
        switch type {
        case MessageType.keyEvent: try apply(envelope, finding)
        case MessageType.telemetry: try count(envelope, entry: entry, finding)
        case MessageType.epochSummary: try check(envelope, at: index, finding)
        default: throw finding("an entry of message type \(type.map(String.init) ?? "none"), which the log does not hold")
        }
        entries += 1
    }

    private mutating func apply(_ envelope: COSESign1, _ finding: (String) -> Finding) throws(Finding) {
        guard envelope.isValid(for: aggregatorKey) else { throw finding("a key event not signed with the log's key") }
        let event: KeyEvent
        do { event = try KeyEvent(decoding: envelope.payload) } catch { throw finding("\(error)") }
        var device = devices[event.serial] ?? Device()
        switch event.kind {
        case .paired, .repaired:
            guard let raw = event.publicKey, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                throw finding("key event for \(event.serial) binds no valid Ed25519 key")
            }
            // As in the stores, a key bound while revoked speaks only once reinstated.
            if let old = device.key { device.retired.insert(KeyID.of(old)) }
            device.retired.remove(KeyID.of(key))
            device.key = key
            if let sensors = event.sensors {
                device.sensors = sensors.map { (name: $0.name, intervalMilliseconds: Int64(clamping: $0.intervalMilliseconds)) }
            }
        case .revoked:
            if let old = device.key { device.retired.insert(KeyID.of(old)) }
            device.key = nil
            device.revoked = true
        case .reinstated:
            guard device.revoked else { throw finding("\(event.serial) is reinstated without being revoked") }
            device.revoked = false
        }
        devices[event.serial] = device
        keyEvents += 1
    }

    /// An epoch summary commits to the epoch's tallies as they stand at its
    /// place in the log: recomputed from the entries before it, they must
    /// make the same digest.
    private mutating func check(_ envelope: COSESign1, at index: UInt64, _ finding: (String) -> Finding) throws(Finding) {
        guard envelope.isValid(for: aggregatorKey) else { throw finding("an epoch summary not signed with the log's key") }
        let summary: EpochSummaryEntry
        do { summary = try EpochSummaryEntry(decoding: envelope.payload) } catch { throw finding("\(error)") }
        guard summary.logSize == index else {
            throw finding("epoch \(summary.epoch.id)'s summary says the log held \(summary.logSize) entries, but it is entry \(index)")
        }
        guard !sealedEpochs.contains(summary.epoch.start) else { throw finding("epoch \(summary.epoch.id) is summarised a second time") }
        let length = UInt64(calendar.lengthMilliseconds)
        guard let start = Int64(exactly: summary.epoch.start), start <= Int64.max - calendar.lengthMilliseconds,
              calendar.start(of: start) == start, summary.epoch.end == summary.epoch.start + length else {
            throw finding("epoch \(summary.epoch.id) [\(summary.epoch.start), \(summary.epoch.end)) is not an epoch of \(length) ms (is --epoch-length right?)")
        }
        let tallies = rows.values.filter { $0.epochStart == start }.map { row in
            EpochSummaryEntry.Tally(serial: row.serial, metric: row.metric, unit: row.unit, count: row.count, minimum: row.minimum,
                                    maximum: row.maximum)
        }
        guard EpochSummaryEntry.digest(tallies) == summary.tallyDigest else {
            let readings = tallies.map(\.count).reduce(0, +)
            throw finding("epoch \(summary.epoch.id)'s summary commits to other tallies than the \(tallies.count) (\(readings) readings) "
                          + "the log's entries before it make")
        }
        sealedEpochs.append(summary.epoch.start)
    }

    private mutating func count(_ envelope: COSESign1, entry: [UInt8], _ finding: (String) -> Finding) throws(Finding) {
        let telemetry: Telemetry
        do { telemetry = try Telemetry(decoding: envelope.payload) } catch { throw finding("\(error)") }
        let serial = telemetry.serial
        // The log carries no topic: the signed serial's own one.
        let decoded = TelemetryVerifier.Decoded(envelope: envelope, telemetry: telemetry, bytes: entry, topic: Topics.telemetry(serial))
        if let rejection = TelemetryVerifier.checkBounds(decoded) { throw finding(rejection.detail) }
        let device = devices[serial]
        let keys = device.map { DeviceKeys(current: $0.key, retiredKeyIDs: $0.retired, revoked: $0.revoked) }
        if let rejection = TelemetryVerifier.checkSignature(decoded, keys: keys) {
            throw finding("\(rejection.reason.rawValue): \(rejection.detail) by the log's key events")
        }
        let sequence = decoded.telemetry.sequence
        guard logged.insert(MessageKey(serial: serial, sequence: sequence)).inserted else {
            throw finding("\(serial)/\(sequence) is logged a second time")
        }
        // The receive time is not in the log; nothing that is tallied depends on it.
        let message = StoredMessage(VerifiedTelemetry(telemetry: decoded.telemetry, raw: entry, keyID: decoded.envelope.keyID), receivedAt: 0)
        let boot = BootKey(serial: serial, bootID: message.bootID)
        do {
            let timing = try MessageTiming(message, anchor: anchors[boot], calendar: calendar)
            if timing.untimed {
                waiting[boot, default: []].append(message)
            } else {
                tally(message, at: timing.time)
            }
            if message.clockSynchronised, anchors[boot] == nil, case let anchor = try MessageTiming.anchor(of: message), anchor >= 0 {
                anchors[boot] = anchor
                for held in waiting.removeValue(forKey: boot) ?? [] {
                    tally(held, at: try MessageTiming.time(anchor: anchor, sinceBoot: held.millisecondsSinceBoot))
                }
            }
        } catch {
            throw finding("\(serial)/\(sequence): \(error)")
        }
        messages += 1
    }

    private mutating func tally(_ message: StoredMessage, at time: Int64) {
        let epoch = calendar.start(of: time)
        samples[DeviceEpoch(serial: message.serial, epochStart: epoch), default: QualitySamples()].add(message.readings, at: time)
        for reading in message.readings {
            let key = TallyKey(serial: message.serial, metric: reading.metric, epochStart: epoch)
            var row = rows[key] ?? TallyRow(serial: message.serial, metric: reading.metric, unit: reading.unit, epochStart: epoch,
                                            epochEnd: calendar.end(ofEpochStartingAt: epoch), count: 0, minimum: .infinity,
                                            maximum: -.infinity, sum: 0)
            row.count += 1
            row.minimum = min(row.minimum, reading.value)
            row.maximum = max(row.maximum, reading.value)
            row.sum += reading.value
            rows[key] = row
        }
    }

    /// The first way a served quality score differs from the one recomputed
    /// (nil: none): the same metrics, sample counts, and each check's value
    /// and the scores to 1e-9.
    public static func difference(recomputed: DeviceQuality, served: DeviceQuality?) -> String? {
        let name = "\(recomputed.serial) epoch \(UTCText.minutes(recomputed.epochStart))"
        guard let served else { return "\(name): the aggregator serves no quality score, the log makes one" }
        guard served.metrics.map(\.metric) == recomputed.metrics.map(\.metric) else {
            return "\(name): quality scored for metrics \(served.metrics.map(\.metric)), the log has \(recomputed.metrics.map(\.metric))"
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 }
        for (mine, theirs) in zip(recomputed.metrics, served.metrics) {
            if mine.samples != theirs.samples { return "\(name) \(mine.metric): quality counts \(theirs.samples) samples, the log \(mine.samples)" }
            for check in mine.quality.checks {
                guard let other = theirs.quality.checks.first(where: { $0.name == check.name }), close(other.value, check.value),
                      close(other.weight, check.weight) else {
                    return "\(name) \(mine.metric): quality check \(check.name) served differently, the log makes \(check.value)"
                }
            }
            if !close(mine.quality.score, theirs.quality.score) {
                return "\(name) \(mine.metric): quality score \(theirs.quality.score) served, the log makes \(mine.quality.score)"
            }
        }
        return close(recomputed.score, served.score) ? nil : "\(name): quality score \(served.score) served, the log makes \(recomputed.score)"
    }

    /// The first way `served` differs from `recomputed`, or nil. Counts,
    /// minima, maxima and units must match exactly; sums to a relative
    /// 1e-9, since a store adds a batch's readings before adding them to
    /// the tally and floating-point addition depends on order.
    public static func difference(recomputed: [TallyRow], served: [TallyRow]) -> String? {
        var expected: [TallyKey: TallyRow] = [:]
        for row in recomputed { expected[TallyKey(row)] = row }
        var seen: Set<TallyKey> = []
        for row in served {
            let key = TallyKey(row)
            let name = "\(row.serial) \(row.metric) epoch \(UTCText.minutes(row.epochStart))"
            guard seen.insert(key).inserted else { return "the aggregator serves the tally of \(name) twice" }
            guard let mine = expected[key] else { return "the aggregator serves a tally of \(name) that no logged message makes" }
            if mine.count != row.count { return "\(name): the aggregator counts \(row.count) readings, the log \(mine.count)" }
            if mine.unit != row.unit { return "\(name): unit \(row.unit) served, \(mine.unit) logged" }
            if mine.minimum != row.minimum || mine.maximum != row.maximum {
                return "\(name): served minimum/maximum \(row.minimum)/\(row.maximum), logged \(mine.minimum)/\(mine.maximum)"
            }
            let scale = max(1, abs(mine.sum), abs(row.sum))
            if !(abs(mine.sum - row.sum) <= 1e-9 * scale) { return "\(name): served sum \(row.sum), logged \(mine.sum)" }
        }
        if let missing = recomputed.first(where: { !seen.contains(TallyKey($0)) }) {
            return "\(missing.serial) \(missing.metric) epoch \(UTCText.minutes(missing.epochStart)): the log makes a tally of "
                + "\(missing.count) readings the aggregator does not serve"
        }
        return nil
    }
}
