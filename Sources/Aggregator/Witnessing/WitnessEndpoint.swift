import TransparencyLog

/// A witness the aggregator asks to cosign its log's checkpoints
/// (c2sp.org/tlog-witness): where it listens and the key its cosignatures
/// must verify under.
public struct WitnessEndpoint: Equatable, Sendable {
    /// The submission prefix, without a trailing slash:
    /// `add-checkpoint` is POSTed to `<url>/add-checkpoint`.
    public var url: String
    /// Its cosigner verifier key, `<name>+<hex ID>+base64(0x04 || key)`,
    /// as `fieldproof-witness verifier-key` prints it.
    public var key: String

    public init(url: String, key: String) {
        self.url = url
        self.key = key
    }

    public var addCheckpointURL: String { url + "/add-checkpoint" }

    /// The key as a verifier reads it; nil for a key `init(validating:)` would refuse.
    public var trusted: TlogProof.TrustedWitness? { try? TlogProof.TrustedWitness(verifierKey: key) }

    /// `url` as configured, checked: http or https, a host, no query or
    /// fragment (the path is appended to). A trailing slash is dropped.
    public static func normalised(url text: String) -> String? {
        var url = Substring(text)
        while url.hasSuffix("/") { url.removeLast() }
        let scheme: Substring
        if url.hasPrefix("http://") { scheme = "http://" } else if url.hasPrefix("https://") { scheme = "https://" } else { return nil }
        let rest = url.dropFirst(scheme.count)
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, !url.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else { return nil }
        return String(url)
    }
}
