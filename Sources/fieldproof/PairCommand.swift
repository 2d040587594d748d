import Agent
import ArgumentParser
import Crypto
import FoundationEssentials
import Identity
import MQTT
import Station
import Wire

/// `fieldproof pair`: derives the identity key from the device secret and
/// the PIN the operator issued, sends the PairRequest, waits for the
/// aggregator's signed answer, and on acceptance keeps the key and pins the
/// aggregator's public key. One result line; the exit status says which.
struct PairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pair",
        abstract: "Pair this device with the aggregator using the one-time PIN the operator gave you.",
        discussion: """
            Asks for the PIN without echo when --pin is not given (or reads one line from a pipe).

            Exit status: 0 paired; 2 wrong PIN; 3 PIN expired or already used; 4 locked (too many
            wrong PINs: ask for a new PIN); 5 serial not enrolled; 6 no answer from the aggregator;
            7 the broker is unreachable; 1 anything else (configuration, files).

            Examples:
              fieldproof pair
              fieldproof pair --pin 12345678 --config /etc/fieldproof/agent.yaml
            """
    )

    @Option(help: "The daemon's configuration (serial, broker, state directory, sensors).")
    var config = "/etc/fieldproof/agent.yaml"

    @Option(help: "The one-time PIN (6-10 digits). Asked for without echo when left out.")
    var pin: String?

    @Option(help: "Pair as this serial instead of the configuration's.")
    var serial: String?

    @Option(help: "Seconds to wait for the aggregator's answer.")
    var timeout = 30

    @Flag(help: "Print the result as JSON.")
    var json = false

    enum Outcome: Int32 {
        case paired = 0, failed = 1, wrongPIN = 2, expired = 3, locked = 4, unknownSerial = 5, noAnswer = 6, brokerUnreachable = 7
    }

    func run() async throws {
        let configuration = try StationContext.loadConfiguration(config)
        let serial = serial ?? configuration.serial
        let pin: PIN
        do {
            pin = try PIN(validating: try self.pin ?? PINPrompt.read("PIN for \(serial): "))
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
        let kdf = PairRequest.KDFParameters.standard
        FileHandleText.standardError("deriving the device key from the PIN (scrypt N=2^\(kdf.logN), a few seconds on a small board)…")
        let board = (try? StationContext.make(configuration: configuration, simulate: configuration.simulate, board: nil, boards: nil).board.name)
            ?? configuration.board
        let sensors = configuration.sensors.map {
            PairRequest.Sensor(name: $0.name, driver: $0.driver, intervalMilliseconds: UInt64(max(0, $0.interval.components.seconds * 1000
                + $0.interval.components.attoseconds / 1_000_000_000_000_000)))
        }
        let request = try DevicePairing.makeRequest(serial: serial, pin: pin, secret: secret, board: board, sensors: sensors,
                                                    time: WallClock.milliseconds(), kdf: kdf)

        let broker = configuration.broker
        let client = try MQTTClient(configuration: broker.mqttConfiguration(clientID: "fieldproof-pair-\(serial)"))
        defer { client.close() }
        FileHandleText.standardError("sending the pairing request to \(broker.host):\(broker.port)…")
        do {
            try await client.connect()
            try await client.subscribe(Topics.pairResponse(serial), qos: .atLeastOnce)
            try await client.publish(topic: Topics.pairRequest(serial), payload: request.message, qos: .atLeastOnce)
        } catch {
            return try finish(.brokerUnreachable, "cannot reach the broker at \(broker.host):\(broker.port) (\(error)): check the network and the broker settings in \(config)",
                          serial: serial)
        }
        guard let response = await answer(from: client, to: request) else {
            return try finish(.noAnswer, "no answer from the aggregator within \(timeout) s: check that fieldproof-aggregator is running and connected to the same broker",
                          serial: serial)
        }
        switch response.result {
        case .accepted:
            guard let aggregatorKey = try? Curve25519.Signing.PublicKey(rawRepresentation: response.aggregatorPublicKey) else {
                return try finish(.failed, "the aggregator's key in its answer is not an Ed25519 key", serial: serial)
            }
            do {
                try PairedIdentity(serial: serial, identityKey: request.identityKey, aggregatorKey: aggregatorKey).save(in: configuration.stateDirectory)
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
        case .stale:
            try finish(.failed, "the aggregator refused the request as stale: check that this device's clock is right (timedatectl)", serial: serial)
        }
    }

    /// The first answer that checks out (signed, MACed with our enrollment,
    /// for our request), or nil after the timeout.
    private func answer(from client: MQTTClient, to request: DevicePairing.Request) async -> PairResponse? {
        let timeout = timeout
        return await withTaskGroup(of: PairResponse?.self) { group in
            group.addTask {
                for await message in client.messages {
                    if let response = try? DevicePairing.checkResponse(message.payload, to: request) { return response }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            client.close()
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
        var description: String { "no PIN given: pass --pin or type it when asked" }
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
