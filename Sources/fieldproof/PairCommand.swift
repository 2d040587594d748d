import Agent
import ArgumentParser
import Crypto
import FoundationEssentials
import Identity
import LinuxService
import MQTT
import Station
import Synchronization
import Wire

/// `fieldproof pair`: fetches the aggregator's keys and checks them
/// against the fingerprint the operator gave, derives the identity key from
/// the device secret and the PIN, sends the PairRequest sealed to the
/// aggregator (HPKE), waits for the answer signed by that same aggregator,
/// and on acceptance keeps the key, pins the aggregator's key and moves the
/// sequence counter above what the aggregator already holds. One result
/// line; the exit status says which.
struct PairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Pair this device with the aggregator using the one-time PIN the operator gave you.",
        discussion: """
            The PIN is asked for without echo, or read as one line from standard input (never from the
            command line, where every user could read it in the process list and it would stay in the
            shell's history). The aggregator's fingerprint (printed by `fieldproof-aggregator enroll`)
            comes from --aggregator-fingerprint or aggregator_fingerprint in the configuration: the PIN is
            sent only to the aggregator that has it.

            Exit status: 0 paired; 2 wrong PIN; 3 PIN expired or already used; 4 locked (too many
            wrong PINs: ask for a new PIN); 5 serial not enrolled; 6 no answer from the aggregator;
            7 the broker is unreachable; 8 the serial is revoked; 9 the aggregator's keys do not match
            the fingerprint; 1 anything else (configuration, files).

            Examples:
              fieldproof pair --aggregator-fingerprint 3f9a-0c1d-5b7e-92a4-c0ff-ee12-3456-789a
              fieldproof pair --config /etc/fieldproof/agent.yaml < pin.txt
            """
    )

    @Option(help: "The daemon's configuration (serial, broker, state directory, sensors).")
    var config = "/etc/fieldproof/agent.yaml"

    @Option(help: "The aggregator's key fingerprint from `fieldproof-aggregator enroll` (default: aggregator_fingerprint in the configuration).")
    var aggregatorFingerprint: String?

    @Option(help: "Pair as this serial instead of the configuration's.")
    var serial: String?

    @Option(help: "Seconds to wait for the aggregator's keys, and then for its answer.")
    var timeout = 30

    @Flag(help: "Print the result as JSON.")
    var json = false

    enum Outcome: Int32 {
        case paired = 0, failed = 1, wrongPIN = 2, expired = 3, locked = 4, unknownSerial = 5, noAnswer = 6, brokerUnreachable = 7, revoked = 8,
             untrustedAggregator = 9
    }

    func run() async throws {
        let configuration = try StationContext.loadConfiguration(config)
        let serial = serial ?? configuration.serial
        guard let fingerprint = (aggregatorFingerprint ?? configuration.aggregatorFingerprint).flatMap(KeyFingerprint.normalised) else {
            return try finish(.failed, (aggregatorFingerprint ?? configuration.aggregatorFingerprint) == nil
                ? "the aggregator's fingerprint is needed so the PIN goes only to it: `fieldproof-aggregator enroll` prints it; pass --aggregator-fingerprint or set aggregator_fingerprint in \(config)"
                : "the aggregator fingerprint must be 32 hex digits (dashes allowed), as `fieldproof-aggregator enroll` prints it", serial: serial)
        }
        let pin: PIN
        do {
            pin = try PIN(validating: try PINPrompt.read("PIN for \(serial): "))
        } catch {
            return try finish(.failed, "\(error)", serial: serial)
        }
        let secret: DeviceSecret
        do {
            try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            secret = try DeviceSecret.loadOrCreate(at: configuration.stateDirectory + "/device.secret")
        } catch {
            return try finish(.failed, "\(error)", serial: serial)
        }
        let board = (try? StationContext.make(configuration: configuration, simulate: configuration.simulate, board: nil, boards: nil).board.name)
            ?? configuration.board
        let sensors = configuration.sensors.map {
            PairRequest.Sensor(name: $0.name, driver: $0.driver, intervalMilliseconds: UInt64(max(0, $0.interval.components.seconds * 1000
                + $0.interval.components.attoseconds / 1_000_000_000_000_000)))
        }

        let broker = configuration.broker
        let client = try MQTTClient(configuration: broker.mqttConfiguration(clientID: "fieldproof-pair-\(serial)"))
        defer { client.close() }
        FileHandleText.standardError("asking \(broker.host):\(broker.port) for the aggregator's keys…")
        do {
            try await client.connect()
            try await client.subscribe(Topics.pairResponse(serial), qos: .atLeastOnce)
            try await client.subscribe(Topics.aggregatorKeys, qos: .atLeastOnce)
        } catch {
            return try finish(.brokerUnreachable, "cannot reach the broker at \(broker.host):\(broker.port) (\(error)): check the network and the broker settings in \(config)",
                          serial: serial)
        }
        let aggregator: AggregatorKeys
        switch await trustedKeys(from: client, fingerprint: fingerprint) {
        case let .trusted(keys): aggregator = keys
        case let .untrusted(error):
            return try finish(.untrustedAggregator, "\(error)", serial: serial)
        case .none:
            return try finish(.noAnswer, "the aggregator's keys did not arrive within \(timeout) s (topic \(Topics.aggregatorKeys)): check that fieldproof-aggregator is running and connected to the same broker",
                              serial: serial)
        }

        let kdf = PairRequest.KDFParameters.standard
        FileHandleText.standardError("deriving the device key from the PIN (scrypt N=2^\(kdf.logN), a few seconds on a small board)…")
        let request = try DevicePairing.makeRequest(serial: serial, pin: pin, secret: secret, board: board, sensors: sensors,
                                                    time: WallClock.milliseconds(), aggregator: aggregator, kdf: kdf)
        do {
            try await client.publish(topic: Topics.pairRequest(serial), payload: request.message, qos: .atLeastOnce)
        } catch {
            return try finish(.brokerUnreachable, "cannot send the pairing request (\(error)): check the broker settings in \(config)", serial: serial)
        }
        guard let response = await answer(from: client, to: request) else {
            return try finish(.noAnswer, "no answer from the aggregator within \(timeout) s: check that fieldproof-aggregator is running and connected to the same broker",
                          serial: serial)
        }
        switch response.result {
        case .accepted:
            do {
                try SequenceCounter.continueAbove(response.highestSequence, path: configuration.stateDirectory + "/sequence")
                try PairedIdentity(serial: serial, identityKey: request.identityKey, aggregatorKey: request.aggregatorKey).save(in: configuration.stateDirectory)
            } catch {
                return try finish(.failed, "\(error)", serial: serial)
            }
            try finish(.paired, "paired \(serial): key id \(KeyID.hex(KeyID.of(request.identityKey.publicKey))); restart the daemon (systemctl restart fieldproof)",
                   serial: serial)
        case .wrongPIN:
            try finish(.wrongPIN, "wrong PIN: \(response.attemptsLeft) attempt\(response.attemptsLeft == 1 ? "" : "s") left", serial: serial)
        case .expired:
            try finish(.expired, "the PIN has expired or was already used: ask the operator for a new one", serial: serial)
        case .locked:
            try finish(.locked, "locked after too many wrong PINs: ask the operator to enroll \(serial) again", serial: serial)
        case .unknownSerial:
            try finish(.unknownSerial, "the aggregator has no enrollment for \(serial): ask the operator to run `fieldproof-aggregator enroll --serial \(serial)`",
                   serial: serial)
        case .revoked:
            try finish(.revoked, "\(serial) is revoked at the aggregator: the operator must reinstate it (`fieldproof-aggregator devices reinstate \(serial)`) and enroll it again",
                   serial: serial)
        case .stale:
            try finish(.failed, "the aggregator refused the request as stale: check that this device's clock is right (timedatectl)", serial: serial)
        }
    }

    enum KeysOutcome: Sendable {
        case trusted(AggregatorKeys)
        /// Announcements came, none with the expected fingerprint.
        case untrusted(DevicePairing.TrustError)
        case none
    }

    /// The aggregator's keys from the retained announcement, once one has
    /// the expected fingerprint. A mismatch is remembered (and reported if
    /// no matching one comes), not fatal at once: the broker may hold a
    /// stale announcement of another aggregator.
    private func trustedKeys(from client: MQTTClient, fingerprint: String) async -> KeysOutcome {
        let lastError = Mutex<DevicePairing.TrustError?>(nil)
        let keys = await firstMessage(from: client) { message -> AggregatorKeys? in
            guard message.topic == Topics.aggregatorKeys else { return nil }
            do throws(DevicePairing.TrustError) {
                return try DevicePairing.trustedKeys(announcement: message.payload, fingerprint: fingerprint)
            } catch {
                lastError.withLock { $0 = error }
                return nil
            }
        }
        if let keys { return .trusted(keys) }
        return lastError.withLock { $0 }.map(KeysOutcome.untrusted) ?? .none
    }

    /// The first answer that checks out (signed by the trusted aggregator,
    /// for our request), or nil after the timeout.
    private func answer(from client: MQTTClient, to request: DevicePairing.Request) async -> PairResponse? {
        await firstMessage(from: client) { message in
            guard message.topic == Topics.pairResponse(request.request.serial) else { return nil }
            return try? DevicePairing.checkResponse(message.payload, to: request)
        }
    }

    /// The first of `client`'s messages that `accept` turns into a value, or
    /// nil after `timeout` seconds. The message stream does not end on
    /// cancellation, so on a timeout the client is closed to end the reader.
    private func firstMessage<T: Sendable>(from client: MQTTClient, _ accept: @escaping @Sendable (MQTTMessage) -> T?) async -> T? {
        let timeout = timeout
        return await withTaskGroup(of: T?.self) { group in
            group.addTask {
                for await message in client.messages {
                    if let value = accept(message) { return value }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { client.close() }
            group.cancelAll()
            return first
        }
    }

    private func finish(_ outcome: Outcome, _ line: String, serial: String) throws {
        if json {
            print(JSONText.object([("serial", .string(serial)), ("result", .string("\(outcome)")), ("message", .string(line))]).render())
        } else if outcome == .paired {
            print(line)
        } else {
            FileHandleText.standardError("fieldproof: \(line)")
        }
        if outcome != .paired { throw ExitCode(outcome.rawValue) }
    }
}

/// Reads the PIN from the terminal with echo off, or one line from a pipe.
enum PINPrompt {
    struct NoInput: Error, CustomStringConvertible {
        var description: String { "no PIN given: type it when asked, or pipe it on standard input (`fieldproof pair < pin.txt`)" }
    }

    static func read(_ prompt: String) throws -> String {
        let terminal = isatty(0) == 1
        var saved = termios()
        if terminal {
            FileHandleText.standardError(prompt, newline: false)
            tcgetattr(0, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &quiet)
        }
        defer {
            if terminal {
                tcsetattr(0, TCSANOW, &saved)
                FileHandleText.standardError("")
            }
        }
        guard let line = readLine(strippingNewline: true) else { throw NoInput() }
        return line.trimmingCharacters()
    }
}

private extension String {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

#if canImport(Glibc)
import Glibc
#endif
