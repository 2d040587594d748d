/// What a device sends to pair (version 2). Two layers:
///
/// - `PairRequest`, the body: serial, the new public key, board, sensors, a
///   nonce, the device's time and the one-time PIN. It travels as the
///   payload of a COSE_Sign1 signed by the new identity key (proof of
///   possession).
/// - `SealedPairRequest`, what goes on the wire: that signed body encrypted
///   to the aggregator's pairing key with HPKE (RFC 9180), so the broker and
///   anyone recording sees neither the PIN nor anything a PIN guess could
///   be checked against.
///
/// Version 1 MACed the body with a key derived from the PIN alone; a
/// recorded request let anyone test PIN guesses offline. Version 1 is no
/// longer accepted.
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

        /// `[[name, driver, interval ms], ...]`, as PairRequest and KeyEvent carry them.
        static func cbor(_ sensors: [Sensor]) -> CBOR {
            .array(sensors.map { .array([.text($0.name), .text($0.driver), .unsigned($0.intervalMilliseconds)]) })
        }

        static func list(_ items: [CBOR], in message: String) throws(WireError) -> [Sensor] {
            var sensors: [Sensor] = []
            for entry in items {
                guard let parts = entry.array, parts.count == 3, let name = parts[0].text, let driver = parts[1].text,
                      let interval = parts[2].uint64, name.utf8.count <= 64, driver.utf8.count <= 64, interval <= 31_536_000_000 else {
                    throw .malformed("a sensor must be [name ≤ 64 bytes, driver ≤ 64 bytes, interval ms ≤ one year]")
                }
                // A device's configuration refuses a repeated name; a list with one was not made by a device.
                guard !sensors.contains(where: { $0.name == name }) else { throw .malformed("sensor \"\(name)\" appears twice in the \(message)") }
                sensors.append(Sensor(name: name, driver: driver, intervalMilliseconds: interval))
            }
            return sensors
        }
    }

    /// scrypt cost parameters (N = 2^logN): the device's key derivation and
    /// the aggregator's stored PIN verifier.
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

        /// What a stored or received parameter set may be: enough to cost a
        /// guesser, small enough that no input makes the aggregator spend
        /// more than a few hundred MiB or seconds.
        public var isWithinBounds: Bool { (10...20).contains(logN) && (1...16).contains(r) && (1...4).contains(p) }
    }

    public static let version: UInt64 = 2

    public var serial: String
    public var publicKey: [UInt8]
    public var board: String
    public var sensors: [Sensor]
    public var nonce: [UInt8]
    /// The device's clock (Unix ms): the aggregator refuses requests
    /// outside its window.
    public var time: UInt64
    /// The PIN the operator issued, as typed (6–10 digits). Only ever sent
    /// inside the HPKE ciphertext.
    public var pin: String

    public init(serial: String, publicKey: [UInt8], board: String, sensors: [Sensor], nonce: [UInt8], time: UInt64, pin: String) {
        self.serial = serial
        self.publicKey = publicKey
        self.board = board
        self.sensors = sensors
        self.nonce = nonce
        self.time = time
        self.pin = pin
    }

    public func encodeBody() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.pairRequest)),
            CBORPair(.int(1), .unsigned(Self.version)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .bytes(publicKey)),
            CBORPair(.int(4), .text(board)),
            CBORPair(.int(5), Sensor.cbor(sensors)),
            CBORPair(.int(6), .bytes(nonce)),
            CBORPair(.int(7), .unsigned(time)),
            CBORPair(.int(8), .text(pin)),
        ]))
    }

    public init(decodingBody bytes: [UInt8]) throws(WireError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("PairRequest body: \(error)") }
        let fields = try MessageFields(item, type: MessageType.pairRequest, name: "PairRequest", version: Self.version)
        serial = try fields.text(2, "serial", maximum: 64)
        guard Serial.isValid(serial) else { throw .malformed("serial \"\(serial)\" has characters other than letters, digits, '-' and '_'") }
        publicKey = try fields.bytes(3, "public key", count: 32...32)
        board = try fields.text(4, "board", maximum: 128)
        let sensors = try Sensor.list(try fields.array(5, "sensors", maximum: 64), in: "PairRequest")
        self.sensors = sensors
        nonce = try fields.bytes(6, "nonce", count: 16...64)
        time = try fields.uint(7, "time")
        pin = try fields.text(8, "PIN", maximum: 10)
        guard (6...10).contains(pin.utf8.count), pin.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .malformed("PairRequest field 8 (PIN) must be 6–10 digits")
        }
    }
}

/// A PairRequest as it travels: `{0: 2, 1: 2, 2: serial, 3: enc, 4: ct}`,
/// where `enc` is HPKE's encapsulated key and `ct` the sealed COSE_Sign1 of
/// the request body. The header `[2, 2, serial]` is HPKE's associated data,
/// so the serial in clear (the aggregator needs it before decrypting, to
/// answer) cannot be changed without the ciphertext failing to open.
public struct SealedPairRequest: Equatable, Sendable {
    public var serial: String
    public var encapsulatedKey: [UInt8]
    public var ciphertext: [UInt8]

    /// The largest ciphertext accepted (a request with 64 sensors fits well inside).
    public static let maximumCiphertext = 16_384

    public init(serial: String, encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        self.serial = serial
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }

    /// HPKE's associated data for `serial`.
    public static func associatedData(serial: String) -> [UInt8] {
        CBOREncoder.encode(.array([.unsigned(MessageType.pairRequest), .unsigned(PairRequest.version), .text(serial)]))
    }

    public func encode() -> [UInt8] {
        CBOREncoder.encode(.map([
            CBORPair(.int(0), .unsigned(MessageType.pairRequest)),
            CBORPair(.int(1), .unsigned(PairRequest.version)),
            CBORPair(.int(2), .text(serial)),
            CBORPair(.int(3), .bytes(encapsulatedKey)),
            CBORPair(.int(4), .bytes(ciphertext)),
        ]))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count <= Self.maximumCiphertext + 256 else { throw .malformed("a sealed PairRequest is at most \(Self.maximumCiphertext + 256) bytes") }
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformed("sealed PairRequest: \(error)") }
        let fields = try MessageFields(item, type: MessageType.pairRequest, name: "sealed PairRequest", version: PairRequest.version)
        serial = try fields.text(2, "serial", maximum: 64)
        guard Serial.isValid(serial) else { throw .malformed("serial \"\(serial)\" has characters other than letters, digits, '-' and '_'") }
        encapsulatedKey = try fields.bytes(3, "HPKE encapsulated key", count: 32...32)
        ciphertext = try fields.bytes(4, "HPKE ciphertext", count: 16...Self.maximumCiphertext)
    }
}
