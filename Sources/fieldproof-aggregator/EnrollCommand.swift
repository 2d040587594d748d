import Aggregator
import AggregatorStore
import ArgumentParser
import ConfigFile
import Identity

/// `enroll`: a one-time PIN for a device, printed once. Only its verifier
/// (a key derived from it with scrypt) is stored.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Issue a one-time pairing PIN for a device (printed once, never stored).",
        discussion: "Example: fieldproof-aggregator enroll --serial fp-0001 --expires 24h"
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The device's serial (letters, digits, '-', '_').") var serial: String
    @Option(help: "How long the PIN stays valid: 30m, 24h, 7d, at most 3650d (default: pairing.default_expiry).") var expires: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let context = try await AggregatorContext.load(options)
        var lifetime = context.configuration.pairing.defaultExpiry
        if let expires {
            do {
                lifetime = try DurationText.parsePositive(expires)
            } catch {
                throw ValidationError("--expires: \(error); for example --expires 24h")
            }
        }
        // Before the PIN is made: a key file that cannot be read must not cost a PIN shown nowhere.
        let identity = try context.identity()
        let fingerprint = identity.fingerprint
        let operations = StoreOperations(store: context.store, identity: identity, maximumAttempts: context.configuration.pairing.maximumAttempts,
                                         pinLength: context.configuration.pairing.pinLength)
        let ticket: (pin: String, expiresAt: Int64)
        do {
            ticket = try await operations.enroll(serial: serial, expiresIn: lifetime)
        } catch {
            Output.error("cannot enroll \(serial): \(error)")
            throw ExitCode(1)
        }
        if json {
            try Output.json(["serial": serial, "pin": ticket.pin, "expiresAt": String(ticket.expiresAt), "aggregatorFingerprint": fingerprint])
        } else {
            Output.line("PIN for \(serial): \(ticket.pin)  (valid until \(UTCText.minutes(ticket.expiresAt)) UTC; enter it with `fieldproof pair` on the device; it is not shown again)")
            Output.line("aggregator fingerprint: \(fingerprint)  (give it with the PIN: `fieldproof pair --aggregator-fingerprint \(fingerprint)`, or aggregator_fingerprint in agent.yaml)")
        }
    }
}
