import FoundationEssentials
import HTTPTypes
import Hummingbird

/// `limit` and `cursor` of the list endpoints (`/api/v1/devices`,
/// `/api/v1/tallies`, `/api/v1/epochs`).
///
/// `limit` is 1…`PageRequest.maximumLimit` (10000), 1000 when absent;
/// anything else is answered 400. The body stays the list it always was;
/// when more follows, the response carries `X-Next-Cursor: <cursor>` and
/// `Link: <same request with cursor=…>; rel="next"`. A cursor is opaque to
/// clients: base64url (no padding) of the JSON of the last item's key
/// (serial; serial, metric and epoch start; epoch start). One that does not
/// decode as that list's key is answered 400; a well-formed one a client
/// made itself only names where to start, which it may.
enum Paging {
    static func request<Key: Codable & Sendable & Equatable>(_ parameters: Parameters, key: Key.Type) throws -> PageRequest<Key> {
        var limit = PageRequest<Key>.defaultLimit
        if let text = parameters["limit"] {
            guard let value = Int(text), (1...PageRequest<Key>.maximumLimit).contains(value) else {
                throw HTTPError(.badRequest, message: "limit \"\(text)\" must be a whole number from 1 to \(PageRequest<Key>.maximumLimit) "
                                + "(default \(PageRequest<Key>.defaultLimit)); follow X-Next-Cursor for the rest")
            }
            limit = value
        }
        var after: Key?
        if let text = parameters["cursor"] {
            guard let key = decode(String(text), as: Key.self) else {
                throw HTTPError(.badRequest, message: "cursor \"\(text)\" is not one this server returned; "
                                + "use the X-Next-Cursor of the previous page, or leave cursor out to start at the beginning")
            }
            after = key
        }
        return PageRequest(limit: limit, after: after)
    }

    static func encode<Key: Encodable>(_ key: Key) -> String {
        // A one-element array: top-level JSON is then always a container.
        guard let data = try? JSONEncoder().encode([key]) else { return "" }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode<Key: Decodable>(_ text: String, as type: Key.Type) -> Key? {
        guard !text.isEmpty, text.utf8.count <= 4096,
              text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let keys = try? JSONDecoder().decode([Key].self, from: data), keys.count == 1 else {
            return nil
        }
        return keys.first
    }

    /// `response` with the next page's cursor and link when `next` is set.
    static func withNext(_ response: Response, next: String?, request: Request) -> Response {
        guard let next else { return response }
        var response = response
        if let name = HTTPField.Name("X-Next-Cursor") { response.headers[name] = next }
        let others = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("cursor=") && $0 != "cursor" }
        let query = (others.map(String.init) + ["cursor=\(next)"]).joined(separator: "&")
        if let name = HTTPField.Name("Link") { response.headers[name] = "<\(request.uri.path)?\(query)>; rel=\"next\"" }
        return response
    }
}
