import Subprocess
import SystemPackage

/// Runs a program to completion (through swift-subprocess) and returns its
/// status and combined output. Waiting is asynchronous, so a long command
/// holds none of Swift's few cooperative threads; the child starts with
/// default signal dispositions and an empty signal mask.
public enum ProcessRunner {
    public struct Result: Sendable {
        /// The exit code, or 128 + the signal that ended it (as a shell says).
        public var status: Int32
        public var output: String
    }

    /// More output than any command a test runs should print.
    static let outputLimit = 64 << 20

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> Result {
        let result = if let input {
            try await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments), input: .string(input),
                                     output: .string(limit: outputLimit), error: .combinedWithOutput)
        } else {
            try await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments),
                                     output: .string(limit: outputLimit), error: .combinedWithOutput)
        }
        let status: Int32 = switch result.terminationStatus {
        case let .exited(code): code
        case let .signaled(signal): 128 + signal
        }
        return Result(status: status, output: result.standardOutput)
    }

    /// Runs and throws when the exit status is not 0.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> String {
        let result = try await run(executable, arguments, input: input)
        guard result.status == 0 else {
            throw TestSupportError.commandFailed("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }
}

public enum TestSupportError: Error, CustomStringConvertible {
    case commandFailed(String)
    case brokerDidNotStart(String)
    case missingTool(String)
    case timeout(String)

    public var description: String {
        switch self {
        case let .commandFailed(text): return text
        case let .brokerDidNotStart(text): return "mosquitto did not start: \(text)"
        case let .missingTool(text): return text
        case let .timeout(text): return "timed out: \(text)"
        }
    }
}
