/// What the aggregator keeps for a device it expects to pair: a verifier
/// of the PIN (scrypt with a random salt of its own; never the PIN, and
/// nothing that could stand in for it), its expiry, attempts left, and
/// whether it was used.
public struct Enrollment: Equatable, Sendable {
    public var serial: String
    /// 16 random bytes, made at enrollment.
    public var salt: [UInt8]
    /// `KeyDerivation.pinVerifier` of the PIN with `salt`.
    public var verifier: [UInt8]
    public var kdf: PairRequestKDF
    public var expiresAt: UInt64
    public var attemptsLeft: Int
    public var used: Bool
    /// Nonces of requests already judged: a replayed request is refused
    /// without costing an attempt.
    public var seenNonces: [[UInt8]]

    public static let rememberedNonces = 32

    public init(serial: String, salt: [UInt8], verifier: [UInt8], kdf: PairRequestKDF, expiresAt: UInt64, attemptsLeft: Int, used: Bool = false,
                seenNonces: [[UInt8]] = []) {
        self.serial = serial
        self.salt = salt
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
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let verifier = try KeyDerivation.pinVerifier(pin: pin, salt: salt, kdf: kdf)
        return (Enrollment(serial: serial, salt: salt, verifier: verifier, kdf: kdf, expiresAt: expiresAt, attemptsLeft: maximumAttempts), pin)
    }

    /// Whether `pin` is this enrollment's PIN: one scrypt, then a
    /// constant-time comparison.
    public func accepts(pin: PIN) -> Bool {
        guard salt.count == 16, verifier.count == 32, let candidate = try? KeyDerivation.pinVerifier(pin: pin, salt: salt, kdf: kdf) else {
            return false
        }
        return KeyDerivation.constantTimeEqual(verifier, candidate)
    }
}

import Wire
public typealias PairRequestKDF = PairRequest.KDFParameters
