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
/// than counting them a little later in the right one.
struct MessageTiming: Equatable {
    /// The time the readings count at (Unix ms).
    var time: Int64
    /// Epoch of `time`; for an untimed message the epoch it arrived in,
    /// which is where it counts in the Merkle trees.
    var epoch: Int64
    var retimed: Bool
    /// Waits for its boot's anchor; not tallied yet.
    var untimed: Bool

    init(_ message: StoredMessage, anchor: Int64?, calendar: EpochCalendar) {
        if message.clockSynchronised {
            time = message.timestamp
            retimed = false
            untimed = false
        } else if let anchor {
            time = anchor + message.millisecondsSinceBoot
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
