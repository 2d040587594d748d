import Crypto
import Testing
@testable import Wire

/// The Telemetry and COSE_Sign1 decoders read tokens straight off the bytes.
/// These tests hold them to a reference written the slow, obvious way: the
/// whole input through the tree decoder (`CBORDecoder.decode`), then the
/// schema checked on the tree. Every mutant of a real message must get the
/// same verdict (and the same value) from both.
@Suite struct MessageReaderTests {
    /// The schema of docs/wire-format.md checked on a decoded tree.
    static func referenceTelemetry(_ bytes: [UInt8]) -> Telemetry? {
        guard let tree = try? CBORDecoder.decode(bytes), let pairs = tree.pairs, tree[0]?.uint64 == 1, tree[1]?.uint64 == 1,
              pairs.allSatisfy({ ($0.key.uint64 ?? .max) <= 12 }),
              let serial = tree[2]?.text, serial.utf8.count <= 64, Serial.isValid(serial),
              let sequence = tree[3]?.uint64, let floor = tree[4]?.uint64, floor < sequence, let timestamp = tree[5]?.uint64,
              case let .bool(synchronised)? = tree[6], let bootID = tree[7]?.bytes, bootID.count == 16, let sinceBoot = tree[8]?.uint64,
              let readingItems = tree[9]?.array, readingItems.count <= 256, let statusItems = tree[10]?.array, statusItems.count <= 256 else { return nil }
        var readings: [Telemetry.Reading] = []
        for item in readingItems {
            guard let parts = item.array, parts.count == 4, let sensor = parts[0].text, let quantity = parts[1].text, let unit = parts[3].text,
                  sensor.utf8.count <= 64, quantity.utf8.count <= 64, unit.utf8.count <= 32 else { return nil }
            let value: Double
            if case let .float(number) = parts[2] { value = number } else if let number = parts[2].int64 { value = Double(number) } else { return nil }
            readings.append(.init(sensor: sensor, quantity: quantity, value: value, unit: unit))
        }
        // Field 11, the log size the device holds, is optional; 12 is reserved.
        var logSize: UInt64?
        if let field = tree[11] {
            guard let size = field.uint64 else { return nil }
            logSize = size
        }
        var statuses: [Telemetry.SensorStatus] = []
        for item in statusItems {
            guard let parts = item.array, parts.count == 2, let sensor = parts[0].text, sensor.utf8.count <= 64 else { return nil }
            switch parts[1] {
            case .null: statuses.append(.init(sensor: sensor, errorCode: nil))
            case let .text(code) where code.utf8.count <= 32: statuses.append(.init(sensor: sensor, errorCode: code))
            default: return nil
            }
        }
        return Telemetry(serial: serial, sequence: sequence, floor: floor, timestamp: timestamp, clockSynchronised: synchronised, bootID: bootID,
                         millisecondsSinceBoot: sinceBoot, readings: readings, statuses: statuses, logSize: logSize)
    }

    /// COSE_Sign1 of RFC 9052 with our header, checked on a decoded tree.
    static func referenceEnvelope(_ bytes: [UInt8]) -> (kid: [UInt8], payload: [UInt8], signature: [UInt8])? {
        guard case let .tagged(18, content)? = try? CBORDecoder.decode(bytes), let parts = content.array, parts.count == 4,
              let protected = parts[0].bytes, parts[1].pairs?.isEmpty == true, let payload = parts[2].bytes, let signature = parts[3].bytes,
              signature.count == 64,
              let header = try? CBORDecoder.decode(protected, limits: CBORLimits(maximumSize: 256, maximumDepth: 2, maximumItems: 16)),
              header.pairs?.count == 2, header[1]?.int64 == -8, let kid = header[4]?.bytes else { return nil }
        return (kid, payload, signature)
    }

    /// Every single-byte change, deletion and insertion of a few values,
    /// and every truncation of `bytes`.
    static func mutants(of bytes: [UInt8]) -> [[UInt8]] {
        var mutants: [[UInt8]] = []
        let values: [UInt8] = [0x00, 0x01, 0x17, 0x18, 0x1F, 0x20, 0x40, 0x5F, 0x60, 0x7F, 0x80, 0x84, 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xF6, 0xF7, 0xF9, 0xFA, 0xFB, 0xFF]
        for index in bytes.indices {
            for value in values where value != bytes[index] {
                var changed = bytes
                changed[index] = value
                mutants.append(changed)
            }
            var changed = bytes
            changed[index] ^= 0x01
            mutants.append(changed)
            var shorter = bytes
            shorter.remove(at: index)
            mutants.append(shorter)
            var longer = bytes
            longer.insert(0x00, at: index)
            mutants.append(longer)
            mutants.append(Array(bytes.prefix(index)))
        }
        return mutants + [bytes + [0x00]]
    }

    /// Small messages, so that mutants reach every field and element kind:
    /// an integer value, a float, an error code, the log size (field 11),
    /// reserved field 12.
    static func seeds() -> [[UInt8]] {
        let small = Telemetry(serial: "fp-1", sequence: 300, floor: 299, timestamp: 1_795_561_454_374, clockSynchronised: false,
                              bootID: [UInt8](repeating: 0xB0, count: 16), millisecondsSinceBoot: 65_536,
                              readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                                         .init(sensor: "rain", quantity: "count", value: 3, unit: "1")],
                              statuses: [.init(sensor: "air", errorCode: nil), .init(sensor: "rain", errorCode: "crc")])
        let reserved = CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(1)), CBORPair(.int(1), .unsigned(1)), CBORPair(.int(2), .text("s")), CBORPair(.int(3), .unsigned(2)),
            CBORPair(.int(4), .unsigned(1)), CBORPair(.int(5), .unsigned(9)), CBORPair(.int(6), .bool(true)),
            CBORPair(.int(7), .bytes([UInt8](repeating: 1, count: 16))), CBORPair(.int(8), .unsigned(0)),
            CBORPair(.int(9), .array([.array([.text("a"), .text("b"), .negative(4), .text("c")])])), CBORPair(.int(10), .array([])),
            CBORPair(.int(11), .unsigned(70_000)), CBORPair(.int(12), .array([.map([CBORPair(.text("k"), .tagged(1, .float(1.5)))])])),
        ]))
        return [small.encode(), reserved]
    }

    @Test func telemetryDecoderAgreesWithTheTreeReferenceOnEveryMutant() throws {
        var accepted = 0, rejected = 0
        for seed in Self.seeds() {
            #expect(Self.referenceTelemetry(seed) != nil)
            for mutant in Self.mutants(of: seed) {
                let fast = try? Telemetry(decoding: mutant)
                let reference = Self.referenceTelemetry(mutant)
                #expect(fast == reference, "verdicts differ for \(hexString(mutant))")
                if fast == nil { rejected += 1 } else { accepted += 1 }
            }
        }
        // Both outcomes were exercised, so agreement means something.
        #expect(accepted > 20 && rejected > 1000)
    }

    @Test func envelopeDecoderAgreesWithTheTreeReferenceOnEveryMutant() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x21, count: 32))
        let message = try COSESign1.sign(payload: [0xA0], with: key, keyID: [1, 2, 3])
        var accepted = 0
        for mutant in Self.mutants(of: message) {
            let fast = try? COSESign1(decoding: mutant)
            let reference = Self.referenceEnvelope(mutant)
            #expect(fast?.keyID == reference?.kid && fast?.payload == reference?.payload && fast?.signature == reference?.signature,
                    "verdicts differ for \(hexString(mutant))")
            if fast != nil { accepted += 1 }
        }
        #expect(accepted > 100)
    }

    @Test func limitsCountEveryItemIncludingReservedFields() {
        // 4,100 items in reserved field 12: over the 4,096-item cap for the
        // whole message, although the fields that are read are small.
        let crowded = CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(1)), CBORPair(.int(1), .unsigned(1)), CBORPair(.int(2), .text("s")), CBORPair(.int(3), .unsigned(2)),
            CBORPair(.int(4), .unsigned(1)), CBORPair(.int(5), .unsigned(9)), CBORPair(.int(6), .bool(true)),
            CBORPair(.int(7), .bytes([UInt8](repeating: 1, count: 16))), CBORPair(.int(8), .unsigned(0)),
            CBORPair(.int(9), .array([])), CBORPair(.int(10), .array([])),
            CBORPair(.int(12), .array([CBOR](repeating: .null, count: 4_100))),
        ]))
        #expect(Self.referenceTelemetry(crowded) == nil)
        #expect { try Telemetry(decoding: crowded) } throws: { String(describing: $0).contains("more than 4096 data items") }
    }

    @Test func topicSerialsAreReadExactly() {
        #expect(Topics.serial(in: "fieldproof/v1/fp-0001/telemetry", kind: "telemetry") == "fp-0001")
        #expect(Topics.serial(in: "fieldproof/v1/fp-0001/pair/req", kind: "pair/req") == "fp-0001")
        for topic in ["fieldproof/v1//telemetry", "fieldproof/v1/a/b/telemetry", "fieldproof/v2/a/telemetry", "fieldproof/v1/a/telemetryx",
                      "fieldproof/v1/atelemetry", "fieldproof/v1/telemetry", "xfieldproof/v1/a/telemetry", "fieldproof/v1/a/pair/req"] {
            #expect(Topics.serial(in: topic, kind: "telemetry") == nil, "\(topic)")
        }
    }
}
