import AsyncHTTPClient
import NIOCore

/// add-checkpoint over HTTP(S) with AsyncHTTPClient. Redirects are not
/// followed (a witness's URL is configured, not discovered); keep-alive
/// connections are reused, as the spec recommends. `shutdown()` before the
/// process ends.
public final class HTTPWitnessTransport: WitnessTransport {
    private let client: HTTPClient
    private let timeout: TimeAmount

    public init(timeout: Duration) {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        self.timeout = .milliseconds(max(1, milliseconds))
        configuration.timeout = .init(connect: self.timeout, read: self.timeout)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func post(_ body: [UInt8], to url: String, limit: Int) async throws -> WitnessAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "fieldproof-aggregator")
        request.body = .bytes(ByteBuffer(bytes: body))
        // This deadline covers the answer's head only; the collector bounds
        // the whole exchange, body included.
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: limit)
        return WitnessAnswer(status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
                             body: Array(buffer: bytes))
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
