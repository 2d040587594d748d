import Aggregator
import ConfigFile
import Foundation
import Identity
import Wire
import LinuxService

/// What the operator does through the CLI or the API: enroll (a one-time
/// PIN, shown once, of which only the verifier is stored) and revoke.
public struct StoreOperations: AggregatorOperations {
    public let store: any AggregatorDataStore
    /// Signs the key events a revocation logs.
    public let identity: AggregatorIdentity
    public let maximumAttempts: Int
    public let pinLength: Int

    public init(store: any AggregatorDataStore, identity: AggregatorIdentity, maximumAttempts: Int, pinLength: Int) {
        self.store = store
        self.identity = identity
        self.maximumAttempts = maximumAttempts
        self.pinLength = pinLength
    }

    /// What the technician checks the aggregator's keys against (given out with each PIN).
    public var aggregatorFingerprint: String? { identity.fingerprint }

    public func enroll(serial: String, expiresIn: Duration) async throws -> (pin: String, expiresAt: Int64) {
        guard Serial.isValid(serial) else { throw InvalidSerial(serial: serial) }
        guard !Serial.isReserved(serial) else { throw InvalidSerial(serial: serial, reserved: true) }
        guard expiresIn > .zero, expiresIn <= DurationText.maximum, let lifetime = DurationText.milliseconds(expiresIn) else {
            throw InvalidExpiry(expiresIn: expiresIn)
        }
        let now = Int64(WallClock.milliseconds())
        let expiresAt = now + lifetime
        let (enrollment, pin) = try Enrollment.create(serial: serial, expiresAt: UInt64(expiresAt), maximumAttempts: maximumAttempts,
                                                      pinLength: pinLength)
        try await store.saveEnrollment(enrollment, at: now)
        return (pin.digits, expiresAt)
    }

    public func revoke(serial: String) async throws -> Bool {
        try await store.revoke(serial: serial, at: Int64(WallClock.milliseconds()), logKey: identity.signingKey)
    }
}

public struct InvalidSerial: OperatorInputError {
    public var serial: String
    /// A valid serial that is one of `Serial.reserved`.
    public var reserved: Bool

    public init(serial: String, reserved: Bool = false) {
        self.serial = serial
        self.reserved = reserved
    }

    public var description: String {
        guard reserved else { return "serial \"\(serial)\" must be 1-64 letters, digits, '-' or '_'" }
        return "serial \"\(serial)\" is reserved: it is a topic level or broker user of its own ("
            + Serial.reserved.sorted().joined(separator: ", ") + "); choose another, e.g. fp-0001"
    }
}

public struct InvalidExpiry: OperatorInputError {
    public var expiresIn: Duration
    public var description: String {
        "a PIN's lifetime must be more than zero and at most \(DurationText.format(DurationText.maximum)), not \(DurationText.format(expiresIn))"
    }
}
