import Foundation

/// A message the store could not commit after its tries, kept as received
/// (`GET /api/v1/dead-letters`). JSON: serial, sequence, error, time (Unix
/// ms), tries, size (bytes) and raw (the message, base64).
public struct DeadLetter: Codable, Equatable, Sendable {
    public var serial: String
    public var sequence: UInt64
    /// The store's error on the last try.
    public var error: String
    /// Unix ms when it was dead-lettered.
    public var time: Int64
    public var tries: Int
    public var raw: [UInt8]

    public init(serial: String, sequence: UInt64, error: String, time: Int64, tries: Int, raw: [UInt8]) {
        self.serial = serial
        self.sequence = sequence
        self.error = error
        self.time = time
        self.tries = tries
        self.raw = raw
    }

    enum CodingKeys: String, CodingKey {
        case serial, sequence, error, time, tries, size, raw
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serial, forKey: .serial)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(error, forKey: .error)
        try container.encode(time, forKey: .time)
        try container.encode(tries, forKey: .tries)
        try container.encode(raw.count, forKey: .size)
        try container.encode(Data(raw).base64EncodedString(), forKey: .raw)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serial = try container.decode(String.self, forKey: .serial)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        error = try container.decode(String.self, forKey: .error)
        time = try container.decode(Int64.self, forKey: .time)
        tries = try container.decode(Int.self, forKey: .tries)
        let text = try container.decode(String.self, forKey: .raw)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: .raw, in: container, debugDescription: "raw is not base64")
        }
        raw = Array(data)
    }
}

/// The dead letters a store keeps (both stores do; the HTTP API lists them
/// when its read model is one).
public protocol DeadLetterReadModel: Sendable {
    /// One page of dead letters (optionally one device's), in (serial,
    /// sequence) order, after `page.after`.
    func deadLetters(serial: String?, page: PageRequest<DeadLetterKey>) async throws -> Page<DeadLetter>
}

/// Where a page of dead letters ends (the cursor).
public struct DeadLetterKey: Codable, Equatable, Sendable {
    public var serial: String
    public var sequence: UInt64

    public init(serial: String, sequence: UInt64) {
        self.serial = serial
        self.sequence = sequence
    }

    public init(_ letter: DeadLetter) {
        self.init(serial: letter.serial, sequence: letter.sequence)
    }
}

extension DeadLetterReadModel {
    /// Every dead letter (optionally one device's), page by page.
    public func deadLetters(serial: String?) async throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        var page = PageRequest<DeadLetterKey>(limit: PageRequest<DeadLetterKey>.maximumLimit)
        while true {
            let next = try await deadLetters(serial: serial, page: page)
            letters += next.items
            guard next.more, let last = next.items.last else { return letters }
            page.after = DeadLetterKey(last)
        }
    }
}
