import Aggregator
import AggregatorStore
import ArgumentParser
import Crypto
import Foundation
import Logging
import MQTT
import TestSupport
import TransparencyLog
import Wire

/// What a device pays to audit its data in the log (issue 16 item 4): CPU
/// time and bytes per verified LogReceipt, beside what it already pays per
/// Ack (one signature check of a small COSE message), in the same run, on
/// a log of `--log-size` entries (proof lengths grow with its logarithm).
struct ReceiptBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "receipt", abstract: "Device CPU and bytes per verified log receipt against an Ack.")

    @Option(help: "Entries in the log the receipts prove against.") var logSize = 1 << 20
    @Option(help: "Receipts (and Acks) checked per measurement.") var count = 2_000
    @Option(help: "Devices the aggregator sends receipts to (its side of the cost).") var devices = 500

    func run() async throws {
        try deviceSide()
        try await aggregatorSide()
    }

    func deviceSide() throws {
        let aggregator = Curve25519.Signing.PrivateKey()
        let device = Curve25519.Signing.PrivateKey()
        let origin = "aggregator.example/fieldproof"
        let signer = try NoteSigner(name: origin, key: aggregator)

        // A log: the device's key event near the start, its message near the end.
        var tree = MerkleTree()
        let keyEvent = try KeyEvent(kind: .paired, serial: "fp-0001", publicKey: Array(device.publicKey.rawRepresentation), time: 1)
            .signed(by: aggregator)
        let telemetry = Telemetry(serial: "fp-0001", sequence: 500, floor: 499, timestamp: 1_795_561_454_374, clockSynchronised: true,
                                  bootID: [UInt8](repeating: 7, count: 16), millisecondsSinceBoot: 1000,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)], logSize: UInt64(logSize - 1000))
        let message = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        var keyIndex = 0, messageIndex = 0
        for index in 0..<logSize {
            switch index {
            case 17: keyIndex = tree.append(keyEvent)
            case logSize - 10: messageIndex = tree.append(message)
            default: _ = tree.append(leaf: .leaf(withUnsafeBytes(of: index) { Array($0) }))
            }
        }
        let held = logSize - 1000
        guard let root = tree.root(size: logSize), let heldRoot = tree.root(size: held),
              let consistency = tree.consistencyProof(from: held, to: logSize),
              let messageProof = tree.inclusionProof(index: messageIndex, size: logSize),
              let keyProof = tree.inclusionProof(index: keyIndex, size: logSize) else { throw ValidationError("could not build the log") }
        let note = try SignedNote.sign(Checkpoint(origin: origin, size: UInt64(logSize), root: root).text, by: [signer])
        let receipt = LogReceipt(serial: "fp-0001", checkpoint: note, consistencyFrom: UInt64(held), consistency: consistency, sequence: 500,
                                 messageIndex: UInt64(messageIndex), messageInclusion: messageProof, keyEvent: keyEvent,
                                 keyEventIndex: UInt64(keyIndex), keyEventInclusion: keyProof, time: 1_795_561_460_000)
        let signedReceipt = try COSESign1.sign(payload: receipt.encode(), with: aggregator, keyID: KeyID.of(aggregator.publicKey))
        let ack = try COSESign1.sign(payload: Ack(serial: "fp-0001", highestContiguous: 500, time: 1_795_561_460_000).encode(), with: aggregator,
                                     keyID: KeyID.of(aggregator.publicKey))
        let view = DeviceLogView(origin: origin, size: UInt64(held), root: heldRoot)
        let deviceKey = Array(device.publicKey.rawRepresentation)
        guard case .proven = LogReceipt.check(signedReceipt, serial: "fp-0001", deviceKey: deviceKey, aggregatorKey: aggregator.publicKey,
                                              view: view, message: { _ in message }) else { throw ValidationError("the receipt does not verify") }

        // Interleaved rounds, median: a busy machine moves both alike.
        var ackTimes: [Double] = [], receiptTimes: [Double] = [], ratios: [Double] = []
        for _ in 0..<5 {
            let ackTime = try seconds {
                guard let envelope = try? COSESign1(decoding: ack), envelope.isValid(for: aggregator.publicKey),
                      (try? Ack(decoding: envelope.payload)) != nil else { throw ValidationError("ack") }
            }
            let receiptTime = try seconds {
                guard case .proven = LogReceipt.check(signedReceipt, serial: "fp-0001", deviceKey: deviceKey, aggregatorKey: aggregator.publicKey,
                                                      view: view, message: { _ in message }) else { throw ValidationError("receipt") }
            }
            ackTimes.append(ackTime); receiptTimes.append(receiptTime); ratios.append(receiptTime / ackTime)
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print("Receipt: log of \(logSize) entries, device held \(held); \(count) checks each in 5 interleaved rounds, one core")
        print("  proof hashes: consistency \(consistency.count), message \(messageProof.count), key event \(keyProof.count)")
        print(String(format: "  Ack (verify + decode)       %8.1f µs CPU  %5d bytes", median(ackTimes) * 1e6, ack.count))
        print(String(format: "  LogReceipt (full check)     %8.1f µs CPU  %5d bytes   ratio %.2f vs Ack", median(receiptTimes) * 1e6,
                     signedReceipt.count, median(ratios)))
        print("  (one receipt per checkpoint interval, 10 s by default, against one Ack per delivered batch)")
    }

    /// CPU seconds per operation of `body`, over `count` runs.
    func seconds(_ body: () throws -> Void) throws -> Double {
        let start = try ProcessCPU.seconds()
        for _ in 0..<count { try body() }
        return (try ProcessCPU.seconds() - start) / Double(count)
    }

    /// The aggregator's CPU time per receipt (store reads, proofs, signing,
    /// publishing through a real broker) beside per Ack, in the same run:
    /// `devices` devices with 20 messages each in a SQLite store.
    func aggregatorSide() async throws {
        let broker = try MosquittoBroker()
        defer { broker.stop() }
        let client = try MQTTClient(configuration: MQTTConfiguration(host: broker.host, port: broker.port, clientID: "bench-receipts"))
        try await client.connect()
        defer { client.close() }
        let path = NSTemporaryDirectory() + "fieldproof-receipt-bench-\(UUID().uuidString.prefix(8)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteStore(path: path, calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300)))
        let aggregator = Curve25519.Signing.PrivateKey()
        let serials = (0..<devices).map { String(format: "bench-%04d", $0) }
        let keys = serials.map { _ in Curve25519.Signing.PrivateKey() }
        for (serial, key) in zip(serials, keys) { try await store.bindKey(serial: serial, publicKey: key.publicKey, at: 0, logKey: aggregator) }
        for sequence in UInt64(1)...20 {
            var batch: [StoredMessage] = []
            for (serial, key) in zip(serials, keys) {
                let telemetry = Telemetry(serial: serial, sequence: sequence, floor: 0, timestamp: 1_795_561_454_374 + sequence, clockSynchronised: true,
                                          bootID: [UInt8](repeating: 7, count: 16), millisecondsSinceBoot: sequence,
                                          readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K")],
                                          statuses: [.init(sensor: "air", errorCode: nil)], logSize: 0)
                let raw = try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
                batch.append(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(key.publicKey)), receivedAt: 0))
            }
            _ = try await store.commit(batch: batch)
        }
        let signer = try NoteSigner(name: "aggregator.example/fieldproof", key: aggregator)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let receipts = LogReceiptPublisher(store: store, client: client, key: aggregator, verifier: signer.verifier, logger: logger)
        let note = try await LogPublisher(store: store, signer: signer).checkpoint()
        let acks = SignedAckPublisher(client: client, key: aggregator)

        let ackStart = try ProcessCPU.seconds()
        for serial in serials { try await acks.publishAck(serial: serial, upTo: 20) }
        let ackTime = (try ProcessCPU.seconds() - ackStart) / Double(devices)
        for serial in serials { await receipts.acknowledged(serial: serial, upTo: 20) }
        let receiptStart = try ProcessCPU.seconds()
        let sent = await receipts.publish(checkpoint: note)
        let receiptTime = (try ProcessCPU.seconds() - receiptStart) / Double(max(1, sent))
        guard sent == devices else { throw ValidationError("\(sent) receipts for \(devices) devices") }
        print("Receipt, aggregator side: \(devices) devices, a log of \(try await store.logSize()) entries in SQLite, through mosquitto")
        print(String(format: "  Ack (sign + publish)              %8.1f µs CPU per device", ackTime * 1e6))
        print(String(format: "  LogReceipt (reads, proofs, sign, publish) %8.1f µs CPU per device   ratio %.2f vs Ack", receiptTime * 1e6,
                     receiptTime / ackTime))
        print(String(format: "  at one receipt per device per 10 s: %.3f of a core per 10,000 devices", receiptTime * 10_000 / 10))
    }
}
