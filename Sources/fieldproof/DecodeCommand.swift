import Agent
import ArgumentParser
import LinuxService
import Crypto
import FoundationEssentials
import Identity
import Wire

/// `fieldproof decode`: prints any Fieldproof message readably and, with a
/// key, says whether its signature is valid.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print a Fieldproof message (Telemetry, PairRequest, PairResponse, Ack) and check its signature.",
        discussion: """
            Reads raw bytes from FILE (or standard input with -), or hex / base64 text.
            Pairing messages carry their own key and are checked with it; Telemetry
            and Ack need --key (the device's or the aggregator's public key, hex or base64).

            With --proof, FILE is an inclusion proof from the aggregator
            (GET /api/v1/epochs/{id}/proofs/{serial}/{sequence}): the device's signature,
            the Merkle path to the epoch root and, with --key or a paired identity in
            --state-directory, the aggregator's signature on the root are checked offline.
            A transparency-log proof (c2sp.org/tlog-proof@v1) is checked with --entry
            (the logged message), --log-key (the log's note verifier key) and, for a
            witness quorum, --witness-key (repeatable) and --quorum.
            Exit status 2 when anything does not verify.

            Examples:
              mosquitto_sub -t 'fieldproof/v1/fp-0001/telemetry' -C 1 -N > msg.cbor && fieldproof decode msg.cbor --key 3d40…660c
              fieldproof decode --hex d28443a10127a0…
              fieldproof decode message.b64 --base64 --json
              curl -s http://aggregator:8080/api/v1/epochs/2026-11-25T17:00Z-1h/proofs/fp-0001/42 | fieldproof decode --proof -
            """
    )

    @Argument(help: "File with the message, or - for standard input.")
    var file: String = "-"

    @Flag(help: "The input is hex text.") var hex = false
    @Flag(help: "The input is base64 text.") var base64 = false
    @Option(help: "Public key to check the signature with (32 bytes, hex or base64).") var key: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "The input is an inclusion proof: check it offline.") var proof = false
    @Option(help: "With --proof: take the aggregator key pinned at pairing from this state directory.") var stateDirectory: String?
    @Option(help: "With a tlog proof: the logged entry (file, or - for standard input).") var entry: String?
    @Option(help: "With a tlog proof: the log's note verifier key (origin+id+key).") var logKey: String?
    @Option(help: "With a tlog proof: a witness's cosigner verifier key (repeatable).") var witnessKey: [String] = []
    @Option(help: "With a tlog proof: how many of the witnesses must have cosigned.") var quorum = 0

    func validate() throws {
        if hex && base64 { throw ValidationError("choose one of --hex and --base64") }
    }

    func run() throws {
        let input = try InputBytes.read(file)
        let bytes: [UInt8]
        if hex {
            guard let decoded = InputBytes.fromHex(input) else { throw ValidationError("the input is not hex text (pairs of 0-9, a-f)") }
            bytes = decoded
        } else if base64 {
            guard let decoded = Data(base64Encoded: String(decoding: input, as: UTF8.self).filter { !$0.isWhitespace }) else {
                throw ValidationError("the input is not base64 text")
            }
            bytes = Array(decoded)
        } else {
            bytes = input
        }
        let publicKey = try key.map(Self.parseKey)
        if proof, bytes.starts(with: Array("c2sp.org/tlog-proof@v1\n".utf8)) { return try checkTlogProof(bytes) }
        if proof { return try checkProof(bytes, aggregatorKey: publicKey) }
        let report = try MessageReport.make(bytes, key: publicKey)
        print(json ? report.json().render() : report.text())
        if report.signatureValid == false { throw ExitCode(2) }
    }

    func checkProof(_ bytes: [UInt8], aggregatorKey: Curve25519.Signing.PublicKey?) throws {
        var trusted = aggregatorKey
        if trusted == nil, let stateDirectory {
            trusted = try PairedIdentity.load(from: stateDirectory)?.aggregatorKey
        }
        let checked: InclusionProof.Checked
        do {
            checked = try InclusionProof(decoding: bytes).check(aggregatorKey: trusted)
        } catch {
            if json {
                print(JSONText.object([("valid", .bool(false)), ("reason", .string(error.description))]).render())
            } else {
                FileHandleText.standardError("fieldproof: the proof does not hold: \(error.description)")
            }
            throw ExitCode(2)
        }
        let telemetry = checked.telemetry
        let signer = KeyID.hex(checked.aggregatorKeyID)
        if json {
            print(JSONText.object([
                ("valid", .bool(true)), ("serial", .string(telemetry.serial)), ("sequence", .unsigned(telemetry.sequence)),
                ("epoch", .string(checked.epoch.id)), ("epochMessages", .unsigned(checked.epoch.messageCount)),
                ("root", .string(KeyID.hex(checked.epoch.root))), ("aggregatorKeyID", .string(signer)),
                ("aggregatorSignatureChecked", .bool(checked.aggregatorVerified)),
            ]).render())
            return
        }
        print("message   \(telemetry.serial) #\(telemetry.sequence), signed by the device key in the proof: valid")
        print("epoch     \(checked.epoch.id): \(checked.epoch.messageCount) messages, Merkle root \(KeyID.hex(checked.epoch.root))")
        print("path      the message is leaf of that root: valid")
        if checked.aggregatorVerified {
            print("root      signed by aggregator key \(signer): valid")
        } else {
            print("root      signed by aggregator key id \(signer): NOT checked (pass --key or --state-directory of a paired device)")
        }
    }

    static func parseKey(_ text: String) throws -> Curve25519.Signing.PublicKey {
        let raw = InputBytes.fromHex(Array(text.utf8)) ?? Data(base64Encoded: text).map(Array.init)
        guard let raw, raw.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw ValidationError("--key must be a 32-byte Ed25519 public key in hex (64 characters) or base64")
        }
        return key
    }
}

enum InputBytes {
    /// `file`, or standard input for "-"; at most 1 MiB (no message is larger).
    static func read(_ file: String) throws -> [UInt8] {
        let limit = 1 << 20
        do {
            guard let bytes = try FileIO.readFile(file == "-" ? "/dev/stdin" : file, limit: limit) else {
                throw ValidationError("cannot read \(file): no such file")
            }
            return bytes
        } catch let error as FileIOError {
            if error.errno == .fileTooLarge { throw ValidationError("\(file) is larger than any Fieldproof message (1 MiB read)") }
            throw ValidationError("cannot read \(file): \(error.errno)")
        }
    }

    static func fromHex(_ text: [UInt8]) -> [UInt8]? {
        let digits = text.filter { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }
}

