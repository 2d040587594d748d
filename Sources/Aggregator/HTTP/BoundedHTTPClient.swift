import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Requests to a party that may be hostile (a witness, a log under audit),
/// with AsyncHTTPClient: redirects are not followed (the URL is configured,
/// not discovered), connecting, reading and the answer's head each have
/// the deadline `timeout`, and at most `limit` bytes of a body are read (a
/// larger one throws `NIOTooManyBytesError`). Keep-alive connections are
/// reused. `shutdown()` before the process ends.
public final class BoundedHTTPClient: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    private let client: HTTPClient
    private let timeout: TimeAmount

    public init(timeout: Duration) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        self.timeout = .milliseconds(max(1, milliseconds))
        configuration.timeout = .init(connect: self.timeout, read: self.timeout)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func get(_ url: String, limit: Int) async throws -> Answer {
        try await send(HTTPClientRequest(url: url), limit: limit)
    }

    public func post(_ body: [UInt8], to url: String, contentType: String, limit: Int) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await send(request, limit: limit)
    }

    private func send(_ request: HTTPClientRequest, limit: Int) async throws -> Answer {
        var request = request
        request.headers.add(name: "User-Agent", value: "fieldproof-aggregator")
        // The deadline covers the answer's head; the body is bounded by
        // `limit` and the read timeout (the witness collector also bounds
        // the whole exchange).
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: limit)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}

/// add-checkpoint over HTTP(S).
extension BoundedHTTPClient: WitnessTransport {
    public func post(_ body: [UInt8], to url: String, limit: Int) async throws -> WitnessAnswer {
        let answer = try await post(body, to: url, contentType: "text/plain; charset=utf-8", limit: limit)
        return WitnessAnswer(status: answer.status, contentType: answer.headers.first(name: "Content-Type") ?? "", body: answer.body)
    }
}
