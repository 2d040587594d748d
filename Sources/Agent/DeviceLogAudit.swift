import LinuxService
import Synchronization
import TransparencyLog
import Wire

/// Checks a log receipt (issue 16 item 4) with the aggregator key pinned at
/// pairing (and the configured witnesses), against the device's view of
/// the log and its own spooled bytes. Implemented by the binary, which
/// holds the keys; the agent does not link the crypto library.
public protocol LogReceiptVerifier: Sendable {
    func check(_ payload: [UInt8], serial: String, view: DeviceLogView, message: (UInt64) -> [UInt8]?) -> LogReceiptVerdict
}

/// The device's audit of its own data in the transparency log: keeps the
/// newest checkpoint it verified (`<state>/log-view`, with the note in
/// `log-checkpoint`), checks each receipt against it, tells the spool what
/// is proven logged, and raises an alarm when the aggregator signed a
/// receipt that fails: a log that forks, shrinks, dropped one of this
/// device's messages or binds another key to its serial. The alarm is kept
/// (`<state>/log-alarm`, with the failing receipt in `log-alarm.cose` as
/// evidence) until an operator removes those files: a forked log does not
/// heal by itself.
public final class DeviceLogAudit: Sendable {
    public struct Alarm: Equatable, Sendable {
        public var reason: String
        /// Unix ms.
        public var at: UInt64
    }

    struct State {
        var view: DeviceLogView
        var alarm: Alarm?
        var receipts: UInt64 = 0
        var lastProvenAt: UInt64?
        var lastSkipped: String?
    }

    private let directory: String
    private let state: Mutex<State>

    public init(stateDirectory: String) throws {
        directory = stateDirectory
        let view = try Self.loadView(from: directory + "/log-view", checkpoint: directory + "/log-checkpoint")
        let alarm = try FileIO.readFile(directory + "/log-alarm", limit: 4096).map { bytes -> Alarm in
            let text = String(decoding: bytes, as: UTF8.self)
            let (time, reason) = (text.prefix { $0 != " " }, text.drop { $0 != " " }.dropFirst())
            return Alarm(reason: String(reason.trimmingSuffix("\n")), at: UInt64(time) ?? 0)
        }
        state = Mutex(State(view: view, alarm: alarm))
    }

    /// The log size the device holds: what its Telemetry reports.
    public var heldSize: UInt64 { state.withLock { $0.view.size } }

    public var view: DeviceLogView { state.withLock { $0.view } }

    public var alarm: Alarm? { state.withLock { $0.alarm } }

    /// Checks one receipt; on success stores the new view and returns the
    /// sequence the spool may release up to. Raises the alarm on failure.
    public func handle(_ payload: [UInt8], serial: String, verifier: any LogReceiptVerifier, message: (UInt64) -> [UInt8]?,
                       now: UInt64 = WallClock.milliseconds()) throws -> LogReceiptVerdict {
        let view = state.withLock { $0.view }
        let verdict = verifier.check(payload, serial: serial, view: view, message: message)
        switch verdict {
        case let .proven(newView, _):
            if newView != view { try save(newView) }
            state.withLock {
                $0.view = newView
                $0.receipts += 1
                $0.lastProvenAt = now
                $0.lastSkipped = nil
            }
        case let .skipped(reason):
            state.withLock { $0.lastSkipped = reason }
        case let .failed(reason):
            let raised = state.withLock { state -> Bool in
                guard state.alarm == nil else { return false }
                state.alarm = Alarm(reason: reason, at: now)
                return true
            }
            if raised {
                try FileIO.writeAtomically(directory + "/log-alarm.cose", payload)
                try FileIO.writeAtomically(directory + "/log-alarm", Array("\(now) \(reason)\n".utf8))
            }
        }
        return verdict
    }

    /// For the status file and the availability message.
    public func status(spool: SpoolStatistics) -> DeviceStatus.Log {
        state.withLock { state in
            DeviceStatus.Log(origin: state.view.origin, size: state.view.size, root: state.view.size > 0 ? state.view.root.base64 : nil,
                             provenSequence: state.view.provenSequence, lastProvenAt: state.lastProvenAt, receipts: state.receipts,
                             unprovenRecords: spool.unprovenRecords, unprovenDropped: spool.unprovenDropped, lastSkipped: state.lastSkipped,
                             alarm: state.alarm?.reason, alarmAt: state.alarm?.at)
        }
    }

    // MARK: Persistence

    private func save(_ view: DeviceLogView) throws {
        if let checkpoint = view.checkpoint { try FileIO.writeAtomically(directory + "/log-checkpoint", Array(checkpoint.utf8)) }
        let text = "origin \(view.origin ?? "")\nsize \(view.size)\nroot \(view.root.base64)\nproven \(view.provenSequence)\n"
        try FileIO.writeAtomically(directory + "/log-view", Array(text.utf8))
    }

    /// A missing file is a device that holds no checkpoint yet; a damaged
    /// one is refused (starting over would accept any log again).
    static func loadView(from path: String, checkpoint: String) throws -> DeviceLogView {
        guard let bytes = try FileIO.readFile(path, limit: 4096) else { return DeviceLogView() }
        var view = DeviceLogView()
        var fields: [Substring: Substring] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            fields[line.prefix { $0 != " " }] = line.drop { $0 != " " }.dropFirst()
        }
        guard let origin = fields["origin"], let size = fields["size"].flatMap({ UInt64($0) }),
              let root = fields["root"].flatMap({ MerkleHash(base64: $0) }), let proven = fields["proven"].flatMap({ UInt64($0) }) else {
            throw AgentError.corruptState(path: path, reason: "expected the lines origin, size, root and proven; "
                                            + "remove it only if this device should trust the next checkpoint it is sent")
        }
        view.origin = origin.isEmpty ? nil : String(origin)
        view.size = size
        view.root = root
        view.provenSequence = proven
        view.checkpoint = try FileIO.readFile(checkpoint, limit: LogReceipt.maximumCheckpointBytes).map { String(decoding: $0, as: UTF8.self) }
        return view
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
