import ArgumentParser
import Identity

/// `fieldproof unpair`: forgets the paired identity (the key and the pinned
/// aggregator key) after confirmation. The device secret stays, so pairing
/// again with a new PIN gives a new key.
struct UnpairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpair",
        abstract: "Forget this device's pairing (asks for confirmation).",
        discussion: """
            The daemon stops publishing until the device is paired again (fieldproof pair).
            Exit status: 0 forgotten (or nothing to forget); 1 not confirmed or a file error.

            Examples:
              fieldproof unpair
              fieldproof unpair --yes --config /etc/fieldproof/agent.yaml
            """
    )

    @Option(help: "The daemon's configuration (for its state directory).")
    var config = "/etc/fieldproof/agent.yaml"

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func run() throws {
        let directory = try StateDirectory.fromConfiguration(config)
        let path = PairedIdentity.path(in: directory)
        guard access(path, F_OK) == 0 else {
            print("not paired: nothing to forget in \(directory)")
            return
        }
        if !yes {
            FileHandleText.standardError("Forget the pairing in \(directory)? The device will stop publishing until paired again. Type yes: ", newline: false)
            guard readLine()?.lowercased() == "yes" else {
                FileHandleText.standardError("fieldproof: not confirmed; the pairing is kept")
                throw ExitCode(1)
            }
        }
        guard unlink(path) == 0 else {
            FileHandleText.standardError("fieldproof: cannot remove \(path): \(String(cString: strerror(errno))) (run as the fieldproof user or root)")
            throw ExitCode(1)
        }
        print("unpaired: \(path) removed; pair again with `fieldproof pair`")
    }
}

#if canImport(Glibc)
import Glibc
#endif
