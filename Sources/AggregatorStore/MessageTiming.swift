import Aggregator

/// When a message's readings happened, as far as the store can tell.
///
/// A board without an RTC boots at some wrong time (often 1970) and stamps
/// readings with it until NTP synchronises the clock; those messages say
/// so (`clockSynchronised` false). Every message also carries its boot id
/// and milliseconds since boot, which are right from the start. The first
/// synchronised message of a boot gives the boot's anchor — wall time at
/// boot = timestamp − ms since boot — and from then on every message of
/// that boot, earlier or later, is timed as anchor + ms since boot and
/// marked re-timed. Until the anchor is known an unsynchronised message is
/// stored and acknowledged (nothing is lost) but its readings wait outside
/// the tallies: counting them in the epoch of a wrong clock would be worse
/// than counting them a little later in the right one. A synchronised
/// message whose ms since boot exceed its timestamp would anchor its boot
/// before 1970; it is stored and tallied at its own time but anchors
/// nothing, so no reading is ever timed before the Unix epoch (epochs and
/// their roots are unsigned).
struct MessageTiming: Equatable {
    /// The time the readings count at (Unix ms).
    var time: Int64
    /// Epoch of `time`; for an untimed message the epoch it arrived in,
    /// which is where it counts in the Merkle trees.
    var epoch: Int64
    var retimed: Bool
    /// Waits for its boot's anchor; not tallied yet.
    var untimed: Bool

    /// Throws `TimingOverflow` when anchor + ms since boot does not fit
    /// (the verifier's bounds keep accepted messages far from that; a store
    /// never traps on what a client sent).
    init(_ message: StoredMessage, anchor: Int64?, calendar: EpochCalendar) throws(TimingOverflow) {
        if message.clockSynchronised {
            time = message.timestamp
            retimed = false
            untimed = false
        } else if let anchor {
            time = try Self.time(anchor: anchor, sinceBoot: message.millisecondsSinceBoot)
            retimed = true
            untimed = false
        } else {
            time = message.timestamp
            retimed = false
            untimed = true
        }
        epoch = calendar.start(of: untimed ? message.receivedAt : time)
    }
}

extension MessageTiming {
    /// anchor + ms since boot, checked.
    static func time(anchor: Int64, sinceBoot: Int64) throws(TimingOverflow) -> Int64 {
        let (time, overflow) = anchor.addingReportingOverflow(sinceBoot)
        guard !overflow else { throw TimingOverflow(detail: "anchor \(anchor) + ms since boot \(sinceBoot) overflows") }
        return time
    }

    /// The boot's anchor a synchronised message gives: timestamp − ms since
    /// boot, checked.
    static func anchor(of message: StoredMessage) throws(TimingOverflow) -> Int64 {
        let (anchor, overflow) = message.timestamp.subtractingReportingOverflow(message.millisecondsSinceBoot)
        guard !overflow else {
            throw TimingOverflow(detail: "timestamp \(message.timestamp) − ms since boot \(message.millisecondsSinceBoot) overflows")
        }
        return anchor
    }

    /// What the PostgreSQL functions compute, checked in Swift before they
    /// run (so an out-of-range message fails before a round trip, not with
    /// "bigint out of range" inside one).
    static func check(_ message: StoredMessage) throws(TimingOverflow) {
        _ = try anchor(of: message)
        guard message.millisecondsSinceBoot >= 0, message.timestamp >= -(Int64(1) << 62), message.timestamp <= Int64(1) << 62,
              message.millisecondsSinceBoot <= Int64(1) << 61 else {
            throw TimingOverflow(detail: "timestamp \(message.timestamp) or ms since boot \(message.millisecondsSinceBoot) is out of range")
        }
    }
}

/// Arithmetic on a message's times would overflow Int64.
struct TimingOverflow: Error, CustomStringConvertible {
    var detail: String
    var description: String { "message timing out of range: \(detail)" }
}
