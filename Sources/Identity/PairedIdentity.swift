import Crypto
import Wire

/// What a successful pairing leaves on the device: the identity key (the
/// seed HKDF derived from the device secret and the PIN key; the PIN itself
/// is never kept) and the aggregator's public key, pinned for checking its
/// acknowledgements. A CBOR map {1: serial, 2: seed, 3: aggregator key} in
/// `<state_directory>/identity`, mode 0600, written atomically.
public struct PairedIdentity: Sendable {
    public var serial: String
    public var identityKey: Curve25519.Signing.PrivateKey
    public var aggregatorKey: Curve25519.Signing.PublicKey

    public static let fileName = "identity"

    public init(serial: String, identityKey: Curve25519.Signing.PrivateKey, aggregatorKey: Curve25519.Signing.PublicKey) {
        self.serial = serial
        self.identityKey = identityKey
        self.aggregatorKey = aggregatorKey
    }

    public var keyID: [UInt8] { KeyID.of(identityKey.publicKey) }

    public static func path(in stateDirectory: String) -> String { stateDirectory + "/" + fileName }

    public func save(in stateDirectory: String) throws(IdentityError) {
        let bytes = CBOREncoder.encode(.map([
            CBORPair(.int(1), .text(serial)),
            CBORPair(.int(2), .bytes(Array(identityKey.rawRepresentation))),
            CBORPair(.int(3), .bytes(Array(aggregatorKey.rawRepresentation))),
        ]))
        try SecretFile.writeAtomically(Self.path(in: stateDirectory), bytes)
    }

    /// nil when the device was never paired; an error naming the file and
    /// the fix when the file is damaged or others can read it.
    public static func load(from stateDirectory: String) throws(IdentityError) -> PairedIdentity? {
        let path = path(in: stateDirectory)
        guard let bytes = try SecretFile.read(path) else { return nil }
        let damaged = IdentityError.fileSystem(path: path, reason: "not a valid identity file: pair the device again (`fieldproof pair`)")
        guard let item = try? CBORDecoder.decode(bytes), let serial = item[1]?.text, let seed = item[2]?.bytes,
              let aggregator = item[3]?.bytes,
              let identityKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed),
              let aggregatorKey = try? Curve25519.Signing.PublicKey(rawRepresentation: aggregator) else { throw damaged }
        return PairedIdentity(serial: serial, identityKey: identityKey, aggregatorKey: aggregatorKey)
    }
}
