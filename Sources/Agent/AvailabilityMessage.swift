/// The retained message on `fieldproof/v1/<serial>/status`: "online" (birth,
/// with what an operator wants to see at a glance) or "offline" (the last
/// will, or a clean shutdown). Small JSON, readable with `mosquitto_sub`.
public enum AvailabilityMessage {
    /// With `log`, a `log` object: the checkpoint size held, the newest
    /// sequence proven logged, and the alarm (null when there is none).
    public static func online(version: String, board: String?, sensors: [String], spoolDepth: Int, dropped: UInt64,
                              log: DeviceStatus.Log? = nil) -> [UInt8] {
        var fields: [(String, JSONText)] = [
            ("state", .string("online")), ("version", .string(version)), ("board", board.map(JSONText.string) ?? .null),
            ("sensors", .array(sensors.map(JSONText.string))), ("spool_depth", .integer(Int64(spoolDepth))), ("dropped", .unsigned(dropped)),
        ]
        if let log {
            fields.append(("log", .object([("size", .unsigned(log.size)), ("proven", .unsigned(log.provenSequence)),
                                           ("alarm", log.alarm.map(JSONText.string) ?? .null)])))
        }
        return Array(JSONText.object(fields).render(pretty: false).utf8)
    }

    public static let offline: [UInt8] = Array("{\"state\":\"offline\"}".utf8)
}
