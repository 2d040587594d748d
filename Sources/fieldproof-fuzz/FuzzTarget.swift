import Aggregator
import AggregatorStore
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Wire

/// libFuzzer entry over the decoder and the verifier. Built by
/// `scripts/fuzz` with `-sanitize=fuzzer -DFUZZING` (libFuzzer then
/// provides `main`); in a normal build the `@main` below replays files
/// (the committed corpus) through the same checks.
///
/// Invariants checked on every input, besides "never traps":
/// - whatever the CBOR decoder accepts re-encodes to exactly the same bytes
///   (it accepts only core deterministic encoding);
/// - what the Telemetry and COSE_Sign1 readers (token by token, no tree)
///   accept, the tree decoder accepts too, and a Telemetry re-encodes to
///   a message that decodes to the same value;
/// - nothing the verifier accepts fails signature verification with the
///   registered key;
/// - the store path: the input, taken as a Telemetry payload, is signed with
///   the fixed key (so the signature check passes and the fuzzer reaches
///   the bounds and the store), verified as the aggregator does, and when
///   accepted committed into a SQLite store (one temporary file for the
///   run): the commit must not throw (whatever the verifier accepts, the
///   store can keep), its highest contiguous must not pass the sequence
///   space, no epoch to seal may start before 1970, and the device's
///   tallies must stay finite and encode as JSON.
enum FuzzTarget {
    static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x5C, count: 32))

    struct Registry: DeviceKeyRegistry {
        func keys(for serial: String) -> DeviceKeys? { serial == "fp-0001" ? DeviceKeys(current: FuzzTarget.key.publicKey) : nil }
    }

    static func run(_ bytes: [UInt8]) {
        if let item = try? CBORDecoder.decode(bytes) {
            let again = CBOREncoder.encode(item)
            if again != bytes { fatalError("decoded CBOR does not re-encode to the same bytes") }
        }
        // The token-by-token readers accept nothing the tree decoder refuses.
        if let telemetry = try? Telemetry(decoding: bytes) {
            guard (try? CBORDecoder.decode(bytes)) != nil, (try? Telemetry(decoding: telemetry.encode())) == telemetry else {
                fatalError("Telemetry accepted bytes the tree decoder refuses, or does not round-trip")
            }
        }
        if (try? COSESign1(decoding: bytes)) != nil, (try? CBORDecoder.decode(bytes)) == nil {
            fatalError("COSE_Sign1 accepted bytes the tree decoder refuses")
        }
        _ = try? Ack(decoding: bytes)
        _ = try? PairRequest(decodingBody: bytes)
        _ = try? PairResponse(decodingBody: bytes)
        _ = try? SealedPairRequest(decoding: bytes)
        _ = try? AggregatorKeys(decoding: bytes)
        storePath(bytes)
        let verdict = TelemetryVerifier.verify(bytes: bytes, topic: "fieldproof/v1/fp-0001/telemetry", registry: Registry(), now: 1_800_000_000_000)
        if case let .accepted(verified) = verdict {
            guard let envelope = try? COSESign1(decoding: verified.raw), envelope.isValid(for: key.publicKey) else {
                fatalError("accepted a message whose signature does not verify")
            }
        }
    }

    /// Valid messages of every type, the starting points of the corpus.
    static func seeds() throws -> [(String, [UInt8])] {
        let telemetry = Telemetry(serial: "fp-0001", sequence: 2, floor: 1, timestamp: 1_795_561_454_374, clockSynchronised: true,
                                  bootID: [UInt8](repeating: 7, count: 16), millisecondsSinceBoot: 1234,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                                             .init(sensor: "air", quantity: "pressure", value: 101_325, unit: "Pa")],
                                  statuses: [.init(sensor: "air", errorCode: nil), .init(sensor: "rain", errorCode: "no-ack")])
        let request = PairRequest(serial: "fp-0001", publicKey: Array(key.publicKey.rawRepresentation), board: "raspberry-pi-4-b",
                                  sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)],
                                  nonce: [UInt8](repeating: 3, count: 16), time: 1, pin: "12345678")
        let response = PairResponse(serial: "fp-0001", result: .accepted, attemptsLeft: 0, boundKeyID: KeyID.of(key.publicKey),
                                    requestNonce: request.nonce, time: 2)
        let keyID = KeyID.of(key.publicKey)
        return [
            ("telemetry", try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: keyID)),
            ("telemetry-payload", telemetry.encode()),
            ("pair-request", SealedPairRequest(serial: "fp-0001", encapsulatedKey: [UInt8](repeating: 2, count: 32),
                                               ciphertext: request.encodeBody()).encode()),
            // Near the bounds, so the fuzzer starts next to them.
            ("telemetry-bounds", Telemetry(serial: "fp-0002", sequence: TelemetryBounds.maximumInteger, floor: TelemetryBounds.maximumInteger - 1,
                                           timestamp: TelemetryBounds.maximumInteger, clockSynchronised: false, bootID: [UInt8](repeating: 8, count: 16),
                                           millisecondsSinceBoot: TelemetryBounds.maximumMillisecondsSinceBoot,
                                           readings: [.init(sensor: "big", quantity: "count", value: 1e15, unit: "1"),
                                                      .init(sensor: "big", quantity: "count", value: -1e15, unit: "1")],
                                           statuses: []).encode()),
            ("pair-response-body", response.encodeBody()),
            ("ack", try COSESign1.sign(payload: Ack(serial: "fp-0001", highestContiguous: 9, time: 3).encode(), with: key, keyID: keyID)),
            ("cbor-mixed", CBOREncoder.encode(.array([.float(1.5), .float(100000), .float(1.1), .int(-1000), .text("ü"), .bytes([1, 2]),
                                                      .map([CBORPair(.text("a"), .null)]), .tagged(1, .bool(true))]))),
        ]
    }
}

extension FuzzTarget {
    static let storeKeys = DeviceKeys(current: key.publicKey)

    /// One SQLite store for the whole run, in memory-backed /dev/shm when
    /// there is one.
    nonisolated(unsafe) static var store: SQLiteStore?

    static func openStore() -> SQLiteStore? {
        if let store { return store }
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = base + "/fieldproof-fuzz-\(getpid()).sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        guard let opened = try? SQLiteStore(path: path, calendar: EpochCalendar(length: .seconds(3600), grace: .seconds(300))) else {
            fatalError("cannot open the fuzz store at \(path)")
        }
        atexit {
            if let path = FuzzTarget.store?.path {
                for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            }
        }
        store = opened
        return opened
    }

    /// Decode → bounds → signature (signed here with the fixed key) →
    /// freshness → commit, as the aggregator does.
    static func storePath(_ payload: [UInt8]) {
        guard let telemetry = try? Telemetry(decoding: payload),
              let signed = try? COSESign1.sign(payload: payload, with: key, keyID: KeyID.of(key.publicKey)) else { return }
        let topic = Topics.telemetry(telemetry.serial)
        let decoded: TelemetryVerifier.Decoded
        switch TelemetryVerifier.decode(bytes: signed, topic: topic) {
        case .failure: fatalError("a payload that decodes, signed, does not decode")
        case let .success(value): decoded = value
        }
        if TelemetryVerifier.checkBounds(decoded) != nil { return }
        if let rejection = TelemetryVerifier.checkSignature(decoded, keys: storeKeys) {
            fatalError("a message signed with the registered key was refused: \(rejection.reason)")
        }
        let now: Int64 = 1_800_000_000_000
        guard case let .accepted(verified) = TelemetryVerifier.checkFreshness(decoded, now: UInt64(now)) else { return }
        guard let store = openStore() else { return }
        let message = StoredMessage(verified, receivedAt: now)
        let outcome = blocking { () async throws -> (CommitResult, [TallyRow]) in
            let result = try await store.commit(message)
            // Sealing turns an epoch start into an unsigned number: none may be negative.
            if let negative = try await store.closableEpochs(now: now).first(where: { $0 < 0 }) {
                fatalError("a closable epoch starts before 1970: \(negative)")
            }
            return (result, try await store.tallies(TallyQuery(serial: telemetry.serial)))
        }
        switch outcome {
        case let .failure(error):
            fatalError("the store could not commit an accepted message: \(error)")
        case let .success((result, tallies)):
            guard result.highestContiguous <= TelemetryBounds.maximumInteger else {
                fatalError("highest contiguous \(result.highestContiguous) passed the sequence bound")
            }
            for row in tallies where !(row.sum.isFinite && row.minimum.isFinite && row.maximum.isFinite && row.mean.isFinite) {
                fatalError("a tally is not finite: \(row)")
            }
            guard (try? JSONEncoder().encode(tallies)) != nil else { fatalError("tallies do not encode as JSON") }
        }
    }

    /// Runs `body` to completion from the fuzzer's synchronous callback.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.result
    }
}

/// Written by the task, read after the semaphore: no overlap.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, any Error> = .failure(CancellationError())
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
/// SwiftPM gives an executable target's entry point its own symbol name, so
/// libFuzzer's `main` cannot be used directly: start its driver from ours.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzerTestOneInput(data, size) }))
    }
}
#else
/// Without libFuzzer: `fieldproof-fuzz FILE…` replays inputs,
/// `fieldproof-fuzz --write-seeds DIR` writes the seed corpus.
@main
struct FuzzReplay {
    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds", arguments.count == 2 {
            for (name, bytes) in try FuzzTarget.seeds() {
                try FileBytes.write(bytes, to: arguments[1] + "/seed-" + name)
            }
            return
        }
        var count = 0
        for path in arguments {
            FuzzTarget.run(try FileBytes.read(path))
            count += 1
        }
        print("replayed \(count) input(s): no crash")
    }
}
#endif
