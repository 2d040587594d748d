import Crypto
import Testing
@testable import Wire

func sampleTelemetry(serial: String = "fp-0001", sequence: UInt64 = 42, timestamp: UInt64 = 1_795_561_454_374, synchronised: Bool = true) -> Telemetry {
    Telemetry(
        serial: serial, sequence: sequence, floor: sequence - 1, timestamp: timestamp, clockSynchronised: synchronised,
        bootID: hex("b033245c87b342a3a204e4cbf65d0a14"), millisecondsSinceBoot: 7_654_321,
        readings: [
            .init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
            .init(sensor: "air", quantity: "relative_humidity", value: 45.5, unit: "%"),
            .init(sensor: "air", quantity: "pressure", value: 101_320, unit: "Pa"),
            .init(sensor: "soil", quantity: "temperature", value: 285.15, unit: "K"),
            .init(sensor: "soil", quantity: "relative_humidity", value: 61.25, unit: "%"),
            .init(sensor: "light", quantity: "illuminance", value: 812.5, unit: "lx"),
        ],
        statuses: [.init(sensor: "air", errorCode: nil), .init(sensor: "soil", errorCode: nil), .init(sensor: "light", errorCode: "crc")])
}

@Suite struct MessageTests {
    @Test func telemetryRoundTrips() throws {
        let telemetry = sampleTelemetry()
        #expect(try Telemetry(decoding: telemetry.encode()) == telemetry)
    }

    @Test func pairingMessagesAndAckRoundTrip() throws {
        let request = PairRequest(serial: "fp-0001", publicKey: [UInt8](repeating: 7, count: 32), board: "raspberry-pi-4-b",
                                  sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)],
                                  nonce: [UInt8](repeating: 9, count: 16), time: 1_795_561_454_374, pin: "0123456789")
        #expect(try PairRequest(decodingBody: request.encodeBody()) == request)
        let sealed = SealedPairRequest(serial: "fp-0001", encapsulatedKey: [UInt8](repeating: 4, count: 32), ciphertext: [UInt8](repeating: 5, count: 40))
        #expect(try SealedPairRequest(decoding: sealed.encode()) == sealed)
        let response = PairResponse(serial: "fp-0001", result: .revoked, attemptsLeft: 3, boundKeyID: [], requestNonce: request.nonce, time: 5,
                                    highestSequence: 77)
        #expect(try PairResponse(decodingBody: response.encodeBody()) == response)
        let keys = AggregatorKeys(signingKey: [UInt8](repeating: 1, count: 32), pairingKey: [UInt8](repeating: 2, count: 32))
        #expect(try AggregatorKeys(decoding: keys.encode()) == keys)
        let ack = Ack(serial: "fp-0001", highestContiguous: 1043, time: 6)
        #expect(try Ack(decoding: ack.encode()) == ack)
    }

    @Test func pairingMessagesRefuseWhatIsNotExactlyRight() throws {
        var request = PairRequest(serial: "fp-0001", publicKey: [UInt8](repeating: 7, count: 32), board: "b", sensors: [],
                                  nonce: [UInt8](repeating: 9, count: 16), time: 1, pin: "12345")
        #expect(throws: WireError.self) { try PairRequest(decodingBody: request.encodeBody()) }   // 5 digits
        request.pin = "12345678a"
        #expect(throws: WireError.self) { try PairRequest(decodingBody: request.encodeBody()) }
        request.pin = "12345678"
        request.sensors = [.init(name: "s", driver: "d", intervalMilliseconds: 31_536_000_001)]
        #expect(throws: WireError.self) { try PairRequest(decodingBody: request.encodeBody()) }   // over a year
        request.sensors = [.init(name: "air", driver: "bme280", intervalMilliseconds: 1000), .init(name: "air", driver: "sht4x", intervalMilliseconds: 1000)]
        #expect { try PairRequest(decodingBody: request.encodeBody()) } throws: { "\($0)".contains("appears twice") }
        // A version 1 body (the MACed protocol) is no longer read.
        let v1 = CBOREncoder.encode(.map([CBORPair(.int(0), .unsigned(MessageType.pairRequest)), CBORPair(.int(1), .unsigned(1))]))
        #expect { try PairRequest(decodingBody: v1) } throws: { String(describing: $0).contains("version 1 is not supported") }
        let tooBig = PairResponse(serial: "fp-0001", result: .accepted, attemptsLeft: 0, boundKeyID: [], requestNonce: request.nonce, time: 1,
                                  highestSequence: 1 << 53)
        #expect(throws: WireError.self) { try PairResponse(decodingBody: tooBig.encodeBody()) }
        let shortKey = SealedPairRequest(serial: "fp-0001", encapsulatedKey: [1, 2, 3], ciphertext: [UInt8](repeating: 5, count: 40))
        #expect(throws: WireError.self) { try SealedPairRequest(decoding: shortKey.encode()) }
        let badSerial = SealedPairRequest(serial: "fp/0001", encapsulatedKey: [UInt8](repeating: 4, count: 32), ciphertext: [UInt8](repeating: 5, count: 40))
        #expect(throws: WireError.self) { try SealedPairRequest(decoding: badSerial.encode()) }
    }

    @Test func fieldsAreCheckedStrictly() throws {
        var bad = sampleTelemetry()
        bad.floor = bad.sequence
        #expect(throws: WireError.self) { try Telemetry(decoding: bad.encode()) }
        bad = sampleTelemetry(serial: "fp/0001")
        #expect(throws: WireError.self) { try Telemetry(decoding: bad.encode()) }
        // An unknown field, a wrong type number, a future version.
        let extra = CBOREncoder.encode(.map([CBORPair(.int(0), .unsigned(1)), CBORPair(.int(1), .unsigned(1)), CBORPair(.int(99), .null)]))
        #expect(throws: WireError.self) { try Telemetry(decoding: extra) }
        #expect(throws: WireError.self) { try Telemetry(decoding: Ack(serial: "x", highestContiguous: 1, time: 1).encode()) }
        let v2 = CBOREncoder.encode(.map([CBORPair(.int(0), .unsigned(1)), CBORPair(.int(1), .unsigned(2))]))
        #expect { try Telemetry(decoding: v2) } throws: { String(describing: $0).contains("version 2 is not supported") }
    }

    /// The hand-written Sig_structure is byte for byte what the generic
    /// encoder makes, for payload lengths on each side of every CBOR
    /// length-form boundary.
    @Test(arguments: [0, 1, 23, 24, 255, 256, 65_535, 65_536])
    func sigStructureMatchesTheGenericEncoder(payloadLength: Int) {
        let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let protected: [UInt8] = [0xA2, 0x01, 0x27, 0x04, 0x50] + [UInt8](repeating: 7, count: 16)
        let generic = CBOREncoder.encode(.array([.text("Signature1"), .bytes(protected), .bytes([]), .bytes(payload)]))
        #expect(COSESign1.sigStructure(protected: protected, payload: payload) == generic)
    }

    @Test func coseSign1HasTheRFC9052Shape() throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 32))
        let kid = KeyID.of(key.publicKey)
        let payload = sampleTelemetry().encode()
        let message = try COSESign1.sign(payload: payload, with: key, keyID: kid)
        // 18([h'A2 01 27 04 50 <kid>', {}, payload, signature])
        #expect(Array(message.prefix(2)) == [0xD2, 0x84])
        let envelope = try COSESign1(decoding: message)
        #expect(envelope.protectedHeader == [0xA2, 0x01, 0x27, 0x04, 0x50] + kid)
        #expect(envelope.payload == payload)
        #expect(envelope.isValid(for: key.publicKey))
        #expect(kid == Array(SHA256.hash(data: Array(key.publicKey.rawRepresentation)).prefix(16)))
        // The signature covers exactly ["Signature1", protected, h'', payload].
        let sigStructure = CBOREncoder.encode(.array([.text("Signature1"), .bytes(envelope.protectedHeader), .bytes([]), .bytes(payload)]))
        #expect(key.publicKey.isValidSignature(envelope.signature, for: sigStructure))
    }

    @Test func anEpochSummaryEntryDecodesOnlyWhenWellFormed() throws {
        let summary = EpochSummaryEntry(epoch: EpochRoot(id: "e", start: 0, end: 3_600_000, messageCount: 2, root: [UInt8](repeating: 7, count: 32),
                                                         time: 9), logSize: 5, tallies: [])
        #expect(try EpochSummaryEntry(decoding: summary.encode()) == summary)
        var shortRoot = summary
        shortRoot.epoch.root = [1]
        #expect(throws: WireError.self) { try EpochSummaryEntry(decoding: shortRoot.encode()) }
        var backwards = summary
        backwards.epoch.end = 0
        #expect(throws: WireError.self) { try EpochSummaryEntry(decoding: backwards.encode()) }
        #expect(throws: WireError.self) { try EpochSummaryEntry(decoding: Ack(serial: "s", highestContiguous: 1, time: 5).encode()) }
        // The digest is of the tallies, not of their order, and sees every field but the sum.
        let a = EpochSummaryEntry.Tally(serial: "a", metric: "m", unit: "K", count: 1, minimum: 1, maximum: 2)
        let b = EpochSummaryEntry.Tally(serial: "b", metric: "m", unit: "K", count: 1, minimum: 1, maximum: 2)
        #expect(EpochSummaryEntry.digest([a, b]) == EpochSummaryEntry.digest([b, a]))
        var changed = a
        changed.maximum = 2.000000001
        #expect(EpochSummaryEntry.digest([a, b]) != EpochSummaryEntry.digest([changed, b]))
        // SHA-256 of the CBOR empty array (0x80).
        #expect(EpochSummaryEntry.digest([]) == Array(SHA256.hash(data: [0x80])))
    }

    /// A binding made by pairing carries the declared sensors (field 6),
    /// one without a pairing carries none; revocation and reinstatement
    /// declare nothing.
    @Test func aKeyEventCarriesTheDeclaredSensorsOnlyWhereTheyBelong() throws {
        let sensors = [PairRequest.Sensor(name: "air", driver: "bme280", intervalMilliseconds: 10_000),
                       PairRequest.Sensor(name: "rain", driver: "rain-gauge", intervalMilliseconds: 2_000)]
        let key = [UInt8](repeating: 3, count: 32)
        let paired = KeyEvent(kind: .paired, serial: "fp-1", publicKey: key, time: 5, sensors: sensors)
        #expect(try KeyEvent(decoding: paired.encode()) == paired)
        let bound = KeyEvent(kind: .repaired, serial: "fp-1", publicKey: key, time: 6)
        #expect(try KeyEvent(decoding: bound.encode()).sensors == nil)
        #expect(try KeyEvent(decoding: KeyEvent(kind: .paired, serial: "fp-1", publicKey: key, time: 5, sensors: []).encode()).sensors == [])
        for kind in [KeyEvent.Kind.revoked, .reinstated] {
            let event = KeyEvent(kind: kind, serial: "fp-1", publicKey: kind == .revoked ? key : nil, time: 7, sensors: sensors)
            #expect(throws: WireError.self, "\(kind)") { try KeyEvent(decoding: event.encode()) }
        }
        let twice = KeyEvent(kind: .paired, serial: "fp-1", publicKey: key, time: 5, sensors: [sensors[0], sensors[0]])
        #expect { try KeyEvent(decoding: twice.encode()) } throws: { String(describing: $0).contains("appears twice in the KeyEvent") }
    }
}
