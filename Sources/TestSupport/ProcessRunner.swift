import Foundation

/// Runs a program to completion and returns its status and combined output.
public enum ProcessRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe } else { process.standardInput = FileHandle.nullDevice }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// `run` on a Dispatch thread, for async tests of long commands: the
    /// wait does not hold one of Swift's few cooperative threads.
    public static func runDetached(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result<ProcessRunner.Result, any Error> { try run(executable, arguments, input: input) })
            }
        }
    }

    /// Runs and throws when the exit status is not 0.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], input: String? = nil) throws -> String {
        let result = try run(executable, arguments, input: input)
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
