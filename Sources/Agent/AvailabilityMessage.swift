/// The retained message on `fieldproof/v1/<serial>/status`: "online" (birth,
/// with what an operator wants to see at a glance) or "offline" (the last
/// will, or a clean shutdown). Small JSON, readable with `mosquitto_sub`.
public enum AvailabilityMessage {
    public static func online(version: String, board: String?, sensors: [String], spoolDepth: Int, dropped: UInt64) -> [UInt8] {
        Array(JSONText.object([
            ("state", .string("online")), ("version", .string(version)), ("board", board.map(JSONText.string) ?? .null),
            ("sensors", .array(sensors.map(JSONText.string))), ("spool_depth", .integer(Int64(spoolDepth))), ("dropped", .unsigned(dropped)),
        ]).render(pretty: false).utf8)
    }

    public static let offline: [UInt8] = Array("{\"state\":\"offline\"}".utf8)
}
