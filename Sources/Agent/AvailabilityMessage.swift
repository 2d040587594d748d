/// The retained message on `fieldproof/v1/<serial>/status`: "online" (birth,
/// with what an operator wants to see at a glance) or "offline" (the last
/// will, or a clean shutdown). Small JSON, readable with `mosquitto_sub`.
public enum AvailabilityMessage {
    public static func online(version: String, board: String?, sensors: [String], spoolDepth: Int, dropped: UInt64) -> [UInt8] {
        let sensorList = sensors.map { "\"\(escape($0))\"" }.joined(separator: ",")
        let boardText = board.map { "\"\(escape($0))\"" } ?? "null"
        return Array("{\"state\":\"online\",\"version\":\"\(escape(version))\",\"board\":\(boardText),\"sensors\":[\(sensorList)],\"spool_depth\":\(spoolDepth),\"dropped\":\(dropped)}".utf8)
    }

    public static let offline: [UInt8] = Array("{\"state\":\"offline\"}".utf8)

    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
