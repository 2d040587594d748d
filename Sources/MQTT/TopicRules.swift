/// MQTT topic rules (MQTT 3.1.1 §4.7), checked before anything reaches the
/// broker so a caller gets a reason instead of a silently dropped message.
enum TopicRules {
    static let maximumLength = 65_535

    /// Why `topic` cannot be published to, or nil when it can.
    static func publishProblem(_ topic: String) -> String? {
        if topic.isEmpty { return "the topic is empty" }
        if topic.utf8.count > maximumLength { return "the topic is longer than \(maximumLength) bytes" }
        if topic.utf8.contains(0) { return "the topic contains a NUL character" }
        // Bytes, not Characters: '+' and '#' are ASCII, never part of a
        // longer UTF-8 sequence, and a Character scan (grapheme breaking) of
        // every Ack's topic showed in the aggregator's profile.
        if topic.utf8.contains(UInt8(ascii: "+")) || topic.utf8.contains(UInt8(ascii: "#")) {
            return "wildcards (+ or #) are only allowed in subscription filters"
        }
        return nil
    }

    /// Why `filter` is not a valid subscription filter, or nil when it is.
    /// Shared subscriptions (`$share/<group>/<filter>`) are checked part by part.
    static func filterProblem(_ filter: String) -> String? {
        if filter.isEmpty { return "the filter is empty" }
        if filter.utf8.count > maximumLength { return "the filter is longer than \(maximumLength) bytes" }
        if filter.utf8.contains(0) { return "the filter contains a NUL character" }
        var levels = filter.split(separator: "/", omittingEmptySubsequences: false)
        if levels.first == "$share" {
            guard levels.count >= 3 else { return "a shared subscription needs $share/<group>/<filter>" }
            let group = levels[1]
            if group.isEmpty || group.contains("+") || group.contains("#") {
                return "the share group name must be non-empty and without wildcards"
            }
            levels = Array(levels.dropFirst(2))
        }
        for (index, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || index != levels.count - 1) {
                return "# must be a whole level and the last one"
            }
            if level.contains("+") && level != "+" {
                return "+ must be a whole level"
            }
        }
        return nil
    }
}
