/// What the aggregator keeps for a device it expects to pair: the MAC key
/// derived from the PIN (never the PIN), its expiry, attempts left, and
/// whether it was used.
public struct Enrollment: Equatable, Sendable {
    public var serial: String
    /// `KeyDerivation.macKey` of the PIN: the enrollment verifier.
    public var verifier: [UInt8]
    public var kdf: PairRequestKDF
    public var expiresAt: UInt64
    public var attemptsLeft: Int
    public var used: Bool
    /// Nonces of requests already judged: a replayed request is refused
    /// without costing an attempt.
    public var seenNonces: [[UInt8]]

    public static let rememberedNonces = 32

    public init(serial: String, verifier: [UInt8], kdf: PairRequestKDF, expiresAt: UInt64, attemptsLeft: Int, used: Bool = false,
                seenNonces: [[UInt8]] = []) {
        self.serial = serial
        self.verifier = verifier
        self.kdf = kdf
        self.expiresAt = expiresAt
        self.attemptsLeft = attemptsLeft
        self.used = used
        self.seenNonces = seenNonces
    }

    public var locked: Bool { attemptsLeft <= 0 && !used }

    /// A new enrollment with a fresh random PIN; the PIN is returned once,
    /// to be shown to the operator, and not kept.
    public static func create(serial: String, expiresAt: UInt64, maximumAttempts: Int = 5, pinLength: Int = 8,
                              kdf: PairRequestKDF = .standard) throws(IdentityError) -> (Enrollment, PIN) {
        let pin = PIN.random(length: pinLength)
        let pinKey = try KeyDerivation.pinKey(pin: pin, serial: serial, kdf: kdf)
        let verifier = KeyDerivation.macKey(pinKey: pinKey, serial: serial)
        return (Enrollment(serial: serial, verifier: verifier, kdf: kdf, expiresAt: expiresAt, attemptsLeft: maximumAttempts), pin)
    }
}

import Wire
public typealias PairRequestKDF = PairRequest.KDFParameters
