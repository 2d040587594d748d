/// What a device sends to pair: its new public key, proven twice — MACed
/// with the key derived from the one-time PIN (the aggregator checks it
/// against the enrollment) and signed with the new identity key (proof of
/// possession).
///
/// COSE payload: `[body: bstr, mac: bstr]`, where `body` is the encoded map
/// below and `mac = HMAC-SHA256(pairing MAC key, body)`; the COSE signature
/// (by the new key) covers both. Nothing is re-encoded to check either.
public struct PairRequest: Equatable, Sendable {
    public struct Sensor: Equatable, Sendable {
        public var name: String
        public var driver: String
        public var intervalMilliseconds: UInt64

        public init(name: String, driver: String, intervalMilliseconds: UInt64) {
            self.name = name
            self.driver = driver
            self.intervalMilliseconds = intervalMilliseconds
        }
    }

    /// scrypt cost parameters (N = 2^logN), carried so they can grow.
    public struct KDFParameters: Equatable, Sendable {
        public var logN: UInt8
        public var r: UInt32
        public var p: UInt32

        public init(logN: UInt8, r: UInt32, p: UInt32) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        public static let standard = KDFParameters(logN: 15, r: 8, p: 1)
    }

    public var serial: String
    public var publicKey: [UInt8]
    public var board: String
    public var sensors: [Sensor]
    public var nonce: [UInt8]
    public var time: UInt64
    public var kdf: KDFParameters

    public init(serial: String, publicKey: [UInt8], board: String, sensors: [Sensor], nonce: [UInt8], time: UInt64, kdf: KDFParameters) {
        self.serial = serial
        self.publicKey = publicKey
        self.board = board
        self.sensors = sensors
        self.nonce = nonce
        self.time = time
        self.kdf = kdf
    }

    /// The body map (what the MAC covers).
    public func encodeBody() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.pairRequest)),
            CBORPair(.int(1), .unsigned(1)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .bytes(publicKey)),
            CBORPair(.int(4), .text(board)),
            CBORPair(.int(5), .array(sensors.map { .array([.text($0.name), .text($0.driver), .unsigned($0.intervalMilliseconds)]) })),
            CBORPair(.int(6), .bytes(nonce)),
            CBORPair(.int(7), .unsigned(time)),
            CBORPair(.int(8), .array([.unsigned(UInt64(kdf.logN)), .unsigned(UInt64(kdf.r)), .unsigned(UInt64(kdf.p))])),
        ]))
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("PairRequest body: \(error)") }
        let fields = try MessageFields(item, type: MessageType.pairRequest, name: "PairRequest")
        serial = try fields.text(2, "serial", maximum: 64)
        guard Serial.isValid(serial) else { throw .malformed("serial \"\(serial)\" has characters other than letters, digits, '-' and '_'") }
        publicKey = try fields.bytes(3, "public key", count: 32...32)
        board = try fields.text(4, "board", maximum: 128)
        var sensors: [Sensor] = []
        for entry in try fields.array(5, "sensors", maximum: 64) {
            guard let parts = entry.array, parts.count == 3, let name = parts[0].text, let driver = parts[1].text,
                  let interval = parts[2].uint64, name.utf8.count <= 64, driver.utf8.count <= 64 else {
                throw .malformed("a sensor must be [name, driver, interval ms]")
            }
            sensors.append(Sensor(name: name, driver: driver, intervalMilliseconds: interval))
        }
        self.sensors = sensors
        nonce = try fields.bytes(6, "nonce", count: 16...64)
        time = try fields.uint(7, "time")
        let kdfFields = try fields.array(8, "KDF parameters", maximum: 3)
        guard kdfFields.count == 3, let logN = kdfFields[0].uint64, let r = kdfFields[1].uint64, let p = kdfFields[2].uint64,
              (10...22).contains(logN), (1...32).contains(r), (1...16).contains(p) else {
            throw .malformed("KDF parameters must be [logN 10…22, r 1…32, p 1…16]")
        }
        kdf = KDFParameters(logN: UInt8(logN), r: UInt32(r), p: UInt32(p))
    }
}

/// The `[body, mac]` payload shared by PairRequest and PairResponse.
public struct MACedBody: Equatable, Sendable {
    public var body: [UInt8]
    public var mac: [UInt8]

    public init(body: [UInt8], mac: [UInt8]) {
        self.body = body
        self.mac = mac
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.array([.bytes(body), .bytes(mac)]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("pairing payload: \(error)") }
        guard let parts = item.array, parts.count == 2, let body = parts[0].bytes, let mac = parts[1].bytes, mac.count == 32 else {
            throw .malformed("a pairing payload must be [body, 32-byte MAC]")
        }
        self.body = body
        self.mac = mac
    }
}
