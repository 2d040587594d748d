import Identity
import Wire

/// One pairing request judged end to end against a store: opened with the
/// aggregator's pairing key, checked for freshness, an attempt taken (one
/// transaction), the PIN checked by scrypt (no transaction held), the key
/// bound (one transaction). The steps are `PairingAuthority`'s.
public struct PairingJudge: Sendable {
    public let store: any AggregatorDataStore
    public let identity: AggregatorIdentity
    public let maximumAge: Duration

    public init(store: any AggregatorDataStore, identity: AggregatorIdentity, maximumAge: Duration) {
        self.store = store
        self.identity = identity
        self.maximumAge = maximumAge
    }

    /// The decision and the request it answers; a refusal (not sealed to
    /// us, not signed by its key, unreadable) gets no answer at all.
    public func judge(bytes: [UInt8], topic: String, now: Int64) async throws -> Result<(PairingAuthority.Decision, PairRequest), PairingRefusal> {
        let request: PairRequest
        switch PairingAuthority.open(bytes: bytes, topic: topic, key: identity.pairingKey) {
        case let .failure(refusal): return .failure(refusal)
        case let .success(opened): request = opened
        }
        let (window, overflow) = UInt64(clamping: maximumAge.components.seconds).multipliedReportingOverflow(by: 1000)
        guard PairingAuthority.isFresh(time: request.time, now: UInt64(clamping: now), maximumAge: overflow ? .max : window) else {
            return .success((.stale, request))
        }
        let enrollment: Enrollment
        switch try await store.reservePairingAttempt(serial: request.serial, nonce: request.nonce, now: now) {
        case let .refused(decision): return .success((decision, request))
        case let .granted(reserved): enrollment = reserved
        }
        guard let pin = try? PIN(validating: request.pin), enrollment.accepts(pin: pin) else {
            return .success((PairingAuthority.wrongPIN(attemptsLeft: enrollment.attemptsLeft), request))
        }
        return .success((try await store.completePairing(request, now: now, logKey: identity.signingKey), request))
    }
}
