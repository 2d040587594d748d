import Hardware
import Synchronization

/// A bus that plays back a session written down in advance: each transaction
/// a driver makes must be the next expected step (same address, same bytes
/// written, same number of bytes read), and is answered with that step's
/// bytes or its error. After periph's `i2ctest.Playback` and
/// embedded-hal-mock's `done()`: a test lists the transactions the datasheet
/// prescribes, with the bytes the chip answers, and `done()` fails if the
/// driver did anything else, or stopped before the end.
///
/// A mismatch throws an `I2CError` (kind `.other`) saying expected against
/// got, and is also remembered, so `done()` reports it even when the driver
/// swallowed the throw.
public final class PlaybackI2CBus: I2CBus, Sendable {
    /// One expected transaction: a write of `write` (when not empty), then a
    /// read of `read.count` bytes (when not empty) answered with `read`; or,
    /// with `failure`, the same transaction answered with that error.
    public struct Step: Equatable, Sendable, CustomStringConvertible {
        public var address: UInt16
        public var write: [UInt8]
        public var read: [UInt8]
        public var failure: I2CErrorKind?
        /// What the step is, as the datasheet names it: `Chip ID`, `Calibration data`.
        public var comment: String

        public init(address: UInt16, write: [UInt8] = [], read: [UInt8] = [], failure: I2CErrorKind? = nil, _ comment: String = "") {
            self.address = address
            self.write = write
            self.read = read
            self.failure = failure
            self.comment = comment
        }

        /// The operations a driver must ask for to match this step.
        public var operations: [I2COperation] {
            (write.isEmpty ? [] : [.write(write)]) + (read.isEmpty ? [] : [.read(count: read.count)])
        }

        public var description: String {
            PlaybackI2CBus.describe(address: address, operations) + (comment.isEmpty ? "" : " // \(comment)")
        }
    }

    /// Why `done()` failed: every mismatch in order, then the steps never reached.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var mismatches: [String]
        public var leftOver: [Step]

        public var description: String {
            var lines = mismatches
            if !leftOver.isEmpty {
                lines.append("\(leftOver.count) expected step\(leftOver.count == 1 ? "" : "s") never happened:")
                lines += leftOver.map { "  \($0)" }
            }
            return "playback I2C bus: " + lines.joined(separator: "\n")
        }
    }

    private struct State {
        var steps: [Step]
        var next = 0
        var mismatches: [String] = []
    }

    public let name: String
    private let state: Mutex<State>

    public init(name: String = "playback bus", _ steps: [Step]) {
        self.name = name
        state = Mutex(State(steps: steps))
    }

    /// How many steps have been played (matched or not).
    public var played: Int { state.withLock { $0.next } }

    /// Throws `Failure` when a transaction did not match its step or steps
    /// are left over; call it at the end of every test.
    public func done() throws(Failure) {
        let failure = state.withLock { state -> Failure? in
            let leftOver = Array(state.steps[state.next...])
            guard !state.mismatches.isEmpty || !leftOver.isEmpty else { return nil }
            return Failure(mismatches: state.mismatches, leftOver: leftOver)
        }
        if let failure { throw failure }
    }

    public func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]] {
        let got = Self.describe(address: address, operations)
        let outcome = state.withLock { state -> Result<Step, I2CError> in
            let index = state.next
            guard index < state.steps.count else {
                let message = "transaction \(index + 1) was not expected (all \(state.steps.count) steps were played): got \(got)"
                state.mismatches.append(message)
                return .failure(I2CError(kind: .other, bus: name, address: address, detail: message))
            }
            let step = state.steps[index]
            state.next += 1
            guard step.address == address, step.operations == operations else {
                let message = "step \(index + 1): expected \(step), got \(got)"
                state.mismatches.append(message)
                return .failure(I2CError(kind: .other, bus: name, address: address, detail: message))
            }
            return .success(step)
        }
        let step = try outcome.get()
        if let failure = step.failure {
            throw I2CError(kind: failure, bus: name, address: address, detail: "playback: injected \(failure) at \(step)")
        }
        return step.read.isEmpty ? [] : [step.read]
    }

    static func describe(address: UInt16, _ operations: [I2COperation]) -> String {
        "0x\(I2CError.hex(address)): " + operations.map { operation in
            switch operation {
            case let .write(bytes): return "write " + bytes.map { "0x" + I2CError.hex(UInt16($0)) }.joined(separator: " ")
            case let .read(count): return "read \(count)"
            }
        }.joined(separator: ", ")
    }
}
