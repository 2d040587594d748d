import TransparencyLog

extension WitnessCollector {
    /// One witness's add-checkpoint exchange for one checkpoint: a request
    /// from the size it holds (0 when unknown), and once more when it
    /// answers 409 with another size (the spec's way to learn it). Every
    /// request, answer included, is bounded by `timeout`.
    struct Exchange: Sendable {
        enum FailureKind: String, Sendable { case refused, invalid, unreachable, error }

        enum Outcome: Equatable, Sendable {
            /// The cosignature line (with its newline) that verified.
            case cosigned(String)
            case failed(FailureKind, String)
        }

        struct Result: Sendable {
            var outcome: Outcome
            /// The size the witness now holds, when it said.
            var held: UInt64?
        }

        struct TimedOut: Error {}

        let member: Member
        let held: UInt64?
        let transport: any WitnessTransport
        let proofs: Proofs
        let timeout: Duration

        func run(note: String, checkpoint: Checkpoint) async -> Result {
            var old = held ?? 0
            var learned: UInt64?
            func failed(_ kind: FailureKind, _ reason: String) -> Result { Result(outcome: .failed(kind, reason), held: learned) }
            for attempt in 0..<2 {
                guard old <= checkpoint.size else {
                    return failed(.refused, "it holds size \(old), more than this checkpoint's \(checkpoint.size): "
                                  + "it was shown a longer, or another, history of this log")
                }
                let proof: [MerkleHash]
                do {
                    guard let made = try await proofs(old, checkpoint.size) else { return failed(.error, "no consistency proof from size \(old)") }
                    proof = made
                } catch {
                    return failed(.error, "cannot read the consistency proof from size \(old): \(error)")
                }
                let body = Array(((["old \(old)"] + proof.map(\.base64)).map { $0 + "\n" }.joined() + "\n" + note).utf8)
                let answer: WitnessAnswer
                do {
                    let (transport, url) = (transport, member.endpoint.addCheckpointURL)
                    answer = try await Self.within(timeout) { try await transport.post(body, to: url, limit: WitnessCollector.maximumAnswerBytes) }
                } catch is TimedOut {
                    return failed(.unreachable, "no answer within \(timeout)")
                } catch {
                    return failed(.unreachable, Self.excerpt(Array("\(error)".utf8)))
                }
                switch answer.status {
                case 200:
                    learned = checkpoint.size
                    guard let line = cosignature(in: answer.body, on: checkpoint) else {
                        return failed(.invalid, "it answered 200 without a cosignature that verifies under the key of \(member.trusted.name)")
                    }
                    return Result(outcome: .cosigned(line), held: learned)
                case 409 where answer.contentType == "text/x.tlog.size":
                    guard let size = Witness.heldSize(inConflictAnswer: answer.body) else { return failed(.invalid, "its 409 answer holds no tree size") }
                    learned = size
                    if attempt == 0, size != old {
                        old = size
                        continue
                    }
                    return failed(.refused, "409: it holds size \(size) after a request from that size")
                default:
                    return failed(.refused, "HTTP \(answer.status): \(Self.excerpt(answer.body))")
                }
            }
            return failed(.refused, "no cosignature after two requests")
        }

        /// The first line of `body` that is a cosignature of this witness
        /// on `checkpoint`; lines of other keys are ignored, as the spec says.
        func cosignature(in body: [UInt8], on checkpoint: Checkpoint) -> String? {
            guard let text = String(validating: body, as: UTF8.self) else { return nil }
            for line in text.split(separator: "\n") {
                let candidate = String(line) + "\n"
                if member.trusted.cosignatureTime(line: candidate, checkpoint: checkpoint) != nil { return candidate }
            }
            return nil
        }

        /// What a witness said, fit for a log line and the dashboard: the
        /// first line, printable ASCII only, at most 200 characters.
        static func excerpt(_ body: [UInt8]) -> String {
            let line = body.prefix { $0 != 0x0A }.prefix(200).map { (0x20...0x7E).contains($0) ? Character(UnicodeScalar($0)) : "?" }
            return line.isEmpty ? "(no body)" : String(line)
        }

        /// `operation`, or `TimedOut` once `timeout` has passed (the
        /// operation is cancelled then).
        static func within<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await operation() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw TimedOut()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw TimedOut() }
                return first
            }
        }
    }
}
