/// Tallies as CSV (RFC 4180: CRLF line ends, quoted fields where needed).
public enum TallyCSV {
    static let header = ["device", "metric", "unit", "epoch_start_ms", "epoch_end_ms", "count", "min", "max", "sum", "mean"]

    public static func render(_ rows: [TallyRow]) -> String {
        var lines = [header.joined(separator: ",")]
        for row in rows {
            lines.append([
                quote(row.serial), quote(row.metric), quote(row.unit), String(row.epochStart), String(row.epochEnd),
                String(row.count), number(row.minimum), number(row.maximum), number(row.sum), number(row.mean),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
