/// How an add-checkpoint request reaches a witness: over HTTP in the
/// service (`BoundedHTTPClient`), in-process in tests.
public protocol WitnessTransport: Sendable {
    /// POSTs `body` to `url` and returns the answer, reading at most
    /// `limit` bytes of its body (a larger one throws).
    func post(_ body: [UInt8], to url: String, limit: Int) async throws -> WitnessAnswer
}

/// A witness's answer: status, media type (without parameters, lowercase)
/// and body, bounded by the transport.
public struct WitnessAnswer: Equatable, Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = Self.mediaType(contentType)
        self.body = body
    }

    /// `text/x.tlog.size; charset=utf-8` → `text/x.tlog.size`.
    static func mediaType(_ header: String) -> String {
        String(header.prefix { $0 != ";" }.filter { $0 != " " }).lowercased()
    }
}
