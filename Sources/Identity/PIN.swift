/// A one-time pairing PIN: 6 to 10 digits. Never stored, never logged
/// (`description` hides it).
public struct PIN: Equatable, Sendable, CustomStringConvertible {
    public let digits: String

    public init(validating text: String) throws(IdentityError) {
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw .pinNotDigits }
        guard (6...10).contains(text.utf8.count) else { throw .pinLength(text.utf8.count) }
        digits = text
    }

    /// A fresh PIN from the system random source (uniform digits).
    public static func random(length: Int = 8) -> PIN {
        var generator = SystemRandomNumberGenerator()
        let text = String((0..<min(10, max(6, length))).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
        // Only digits of the right length are produced, so this cannot fail.
        return (try? PIN(validating: text)) ?? PIN(unchecked: text)
    }

    private init(unchecked text: String) { digits = text }

    public var description: String { "PIN(\(digits.count) digits)" }
}
