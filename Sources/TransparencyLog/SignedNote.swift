/// C2SP signed notes (c2sp.org/signed-note): a text ending in a newline, a
/// blank line, and signature lines `— <key name> base64(key ID || sig)`.
/// Reading follows the spec's rules for hostile input: valid UTF-8, no
/// control characters but newline, bounded size and signature count;
/// signatures of unknown keys are ignored, one of a known key that does not
/// verify rejects the note, and at least one known key must have signed.
public enum SignedNote {
    /// Far above a checkpoint with a few dozen cosignatures.
    public static let maximumBytes = 64 * 1024
    /// The spec asks verifiers to accept at least 16.
    public static let maximumSignatures = 100

    /// `text` (which must end in a newline) signed by each of `signers`.
    public static func sign(_ text: String, by signers: [NoteSigner]) throws(NoteError) -> String {
        let bytes = Array(text.utf8)
        guard bytes.last == 0x0A else { throw .malformed("the text must end in a newline") }
        guard !signers.isEmpty else { throw .noVerifiedSignature }
        try checkCharacters(bytes)
        var note = text + "\n"
        for signer in signers {
            do { note += try signer.signatureLine(for: bytes) } catch { throw .signingFailed }
        }
        return note
    }

    /// The text of `note` and the known keys whose signatures verified.
    public static func open(_ note: [UInt8], verifiers: [NoteVerifier]) throws(NoteError) -> (text: String, signedBy: [NoteVerifier]) {
        let (text, lines) = try split(note)
        var signedBy: [NoteVerifier] = []
        for line in lines {
            let (name, id, signature) = try parseSignatureLine(line)
            guard let verifier = verifiers.first(where: { $0.name == name && $0.keyID == id }) else { continue }
            guard verifier.isValidSignature(signature, for: text) else { throw .invalidSignature(keyName: name) }
            if !signedBy.contains(verifier) { signedBy.append(verifier) }
        }
        guard !signedBy.isEmpty else { throw .noVerifiedSignature }
        return (String(decoding: text, as: UTF8.self), signedBy)
    }

    /// The text (with its final newline) and the signature lines (without
    /// theirs) of a note, after the checks every note must pass.
    static func split(_ note: [UInt8]) throws(NoteError) -> (text: [UInt8], lines: [String]) {
        guard note.count <= maximumBytes else { throw .tooLarge }
        guard String(validating: note, as: UTF8.self) != nil else { throw .malformed("not UTF-8") }
        try checkCharacters(note)
        guard note.last == 0x0A else { throw .malformed("it must end in a newline") }
        // The text ends at the last blank line: everything after it is signatures.
        var split: Int?
        var index = note.count - 1
        while index > 0 {
            if note[index] == 0x0A && note[index - 1] == 0x0A { split = index; break }
            index -= 1
        }
        guard let split else { throw .malformed("no blank line before the signatures") }
        let lines = note[(split + 1)...].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        guard !lines.isEmpty else { throw .malformed("no signature lines") }
        guard lines.count <= maximumSignatures else { throw .tooLarge }
        return (Array(note[..<split]), lines.map { String(decoding: $0, as: UTF8.self) })
    }

    private static func parseSignatureLine(_ line: String) throws(NoteError) -> (String, UInt32, [UInt8]) {
        guard line.hasPrefix("\u{2014} ") else { throw .malformed("a signature line must start with an em dash and a space") }
        let parts = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, NoteVerifier.isValidName(String(parts[0])),
              let bytes = Base64.decode(parts[1]), bytes.count > 4 else {
            throw .malformed("a signature line is `— <key name> <base64 signature>`")
        }
        let id = NoteEncoding.uint32(bytes[...])
        return (String(parts[0]), id, Array(bytes[4...]))
    }

    /// No ASCII control characters other than newline.
    private static func checkCharacters(_ bytes: [UInt8]) throws(NoteError) {
        if bytes.contains(where: { $0 < 0x20 && $0 != 0x0A }) {
            throw .malformed("it holds a control character")
        }
    }
}
