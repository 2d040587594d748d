/// Secret comparison whose time does not depend on where the bytes differ.
///
/// `==` on strings stops at the first differing byte, so the time an answer
/// takes tells an attacker how long a prefix of the operator token they have
/// guessed right, and the token can be found a byte at a time. This compares
/// every byte of both: it walks the longer of the two, folding every
/// difference (and the difference of the lengths) into one accumulator, and
/// branches only at the end. What its time still shows is the length of the
/// longer input (the attacker's own, or the token's when theirs is
/// shorter). That much we accept: the token is at least 16 characters
/// (`http.operator_token`), and knowing its length leaves every byte to
/// guess.
public enum ConstantTime {
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let a = Array(a), b = Array(b)
        var difference = UInt(bitPattern: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= UInt(x ^ y)
        }
        return difference == 0
    }

    public static func equals(_ a: String, _ b: String) -> Bool {
        equals(a.utf8, b.utf8)
    }
}
