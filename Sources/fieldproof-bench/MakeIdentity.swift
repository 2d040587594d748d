import ArgumentParser
import Crypto
import Identity

/// For benchmarks only: writes a paired identity with fresh random keys, so
/// a daemon can sign and publish without an aggregator (its Acks never
/// come, which a resident-memory measurement does not need).
struct MakeIdentity: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "make-identity", abstract: "Write a throwaway paired identity (benchmarks only).",
                                                    shouldDisplay: false)

    @Option var stateDirectory: String
    @Option var serial: String

    func run() throws {
        try PairedIdentity(serial: serial, identityKey: Curve25519.Signing.PrivateKey(),
                           aggregatorKey: Curve25519.Signing.PrivateKey().publicKey).save(in: stateDirectory)
    }
}
