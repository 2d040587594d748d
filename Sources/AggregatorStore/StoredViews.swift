import Aggregator
import Crypto
import Wire

/// The parts of the read model that do not depend on the database: both
/// stores fetch rows and hand them here, so the API shows the same thing
/// whichever store is behind it.
enum StoredViews {
    /// The newest value of each metric of one device with the values before
    /// it (oldest first), from that device's latest stored messages.
    static func latestReadings(serial: String, newestFirst raws: [[UInt8]]) -> [LatestReading] {
        var byMetric: [String: LatestReading] = [:]
        var order: [String] = []
        for raw in raws.reversed() {
            guard let envelope = try? COSESign1(decoding: raw), let telemetry = try? Telemetry(decoding: envelope.payload) else { continue }
            for reading in telemetry.readings {
                let metric = "\(reading.sensor)/\(reading.quantity)"
                if byMetric[metric] == nil { order.append(metric) }
                var entry = byMetric[metric] ?? LatestReading(serial: serial, metric: metric, value: reading.value, unit: reading.unit,
                                                              at: Int64(clamping: telemetry.timestamp))
                entry.value = reading.value
                entry.at = Int64(clamping: telemetry.timestamp)
                entry.recent.append(reading.value)
                byMetric[metric] = entry
            }
        }
        return order.compactMap { byMetric[$0] }
    }

    /// The quality checks (`QualityScore`) of each metric of one device's
    /// messages in one epoch, each at the time the store gave it (the
    /// device's timestamp, or the re-timed one; see `MessageTiming`).
    static func quality(serial: String, epochStart: Int64, epochEnd: Int64, messages: [(raw: [UInt8], time: Int64)],
                        intervals: [(name: String, intervalMilliseconds: Int64)]) -> DeviceQuality? {
        var samples = QualitySamples()
        for (raw, time) in messages {
            guard let envelope = try? COSESign1(decoding: raw), let telemetry = try? Telemetry(decoding: envelope.payload) else { continue }
            samples.add(telemetry.readings.map { StoredMessage.Reading(metric: "\($0.sensor)/\($0.quantity)", unit: $0.unit, value: $0.value) },
                        at: time)
        }
        return samples.quality(serial: serial, epochStart: epochStart, epochEnd: epochEnd, intervals: intervals)
    }

    /// Readings received ÷ readings expected from the intervals the device
    /// declared when it paired, between its first and last message. Per
    /// sensor, the quantity counted most often stands for its samples.
    static func coverage(firstSeen: Int64, lastSeen: Int64, sensors: [(name: String, intervalMilliseconds: Int64)],
                         counts: [(metric: String, count: Int64)]) -> Double? {
        var expected = 0.0, received = 0.0
        for sensor in sensors where sensor.intervalMilliseconds > 0 {
            expected += Double((lastSeen - firstSeen) / sensor.intervalMilliseconds + 1)
            received += Double(counts.filter { $0.metric.hasPrefix(sensor.name + "/") }.map(\.count).max() ?? 0)
        }
        return expected > 0 ? min(1, received / expected) : nil
    }

    /// The inclusion proof of the message with `hash` among an epoch's
    /// sorted hashes.
    static func proof(signedEpoch: [UInt8], raw: [UInt8], hash: [UInt8], epochHashes: [[UInt8]],
                      devicePublicKey: (_ keyID: [UInt8]) async throws -> [UInt8]?) async throws -> [UInt8]? {
        guard let index = epochHashes.firstIndex(of: hash),
              let path = EpochTree.inclusionProof(index: index, leaves: epochHashes.map(EpochTree.leafHash)),
              let envelope = try? COSESign1(decoding: raw), let publicKey = try await devicePublicKey(envelope.keyID) else { return nil }
        return InclusionProof(epoch: signedEpoch, message: raw, devicePublicKey: publicKey, leafIndex: UInt64(index), path: path).encode()
    }

    static func epochSummary(id: String, start: Int64, end: Int64, messageCount: Int64, root: [UInt8], signed: [UInt8],
                             aggregatorKey: [UInt8]) -> EpochSummary {
        let signature = (try? COSESign1(decoding: signed)).map { KeyID.hex($0.signature) } ?? ""
        return EpochSummary(id: id, start: start, end: end, messageCount: UInt64(messageCount), root: KeyID.hex(root), signature: signature,
                            aggregatorKey: KeyID.hex(aggregatorKey))
    }
}

/// An enrollment's remembered nonces as one CBOR array of byte strings
/// (both stores keep them this way).
enum EnrollmentNonces {
    static func encode(_ nonces: [[UInt8]]) -> [UInt8] {
        CBOREncoder.encode(.array(nonces.map(CBOR.bytes)))
    }

    static func decode(_ bytes: [UInt8]) -> [[UInt8]] {
        (try? CBORDecoder.decode(bytes))?.array?.compactMap(\.bytes) ?? []
    }
}

/// One device's readings in one epoch, by metric, as the quality checks
/// take them: what the stores read back and the log audit replays.
struct QualitySamples {
    private var samples: [String: [(at: Int64, value: Double)]] = [:]
    private var quantities: [String: String] = [:]

    mutating func add(_ readings: [StoredMessage.Reading], at time: Int64) {
        for reading in readings {
            samples[reading.metric, default: []].append((time, reading.value))
            // A sensor name holds no '/': the rest of the metric is the quantity.
            quantities[reading.metric] = String(reading.metric.drop { $0 != "/" }.dropFirst())
        }
    }

    /// The checks of each metric (`QualityScore`), against the interval its
    /// sensor was declared with; nil without readings.
    func quality(serial: String, epochStart: Int64, epochEnd: Int64, intervals: [(name: String, intervalMilliseconds: Int64)]) -> DeviceQuality? {
        guard !samples.isEmpty else { return nil }
        let metrics = samples.keys.sorted().map { metric -> DeviceQuality.Metric in
            let sensor = String(metric.prefix { $0 != "/" })
            let interval = intervals.first { $0.name == sensor }?.intervalMilliseconds
            let values = samples[metric] ?? []
            return DeviceQuality.Metric(metric: metric, samples: values.count,
                                        quality: QualityScore.evaluate(samples: values, quantity: quantities[metric] ?? "",
                                                                       epochMilliseconds: epochEnd - epochStart, declaredIntervalMilliseconds: interval))
        }
        return DeviceQuality(serial: serial, epochStart: epochStart, epochEnd: epochEnd, metrics: metrics)
    }
}
