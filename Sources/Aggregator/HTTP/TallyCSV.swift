import Units

/// Tallies as CSV (RFC 4180: CRLF line ends, quoted fields where needed).
/// SI values unrounded by default, as stored; in display units (°C, hPa,
/// …, with their precision) on request, for a spreadsheet a person reads.
public enum TallyCSV {
    static let header = ["device", "metric", "unit", "epoch_start_ms", "epoch_end_ms", "count", "min", "max", "sum", "mean"]

    public static func render(_ rows: [TallyRow], units: UnitSystem = .si) -> String {
        var lines = [header.joined(separator: ",")]
        for row in rows {
            let values: [String]
            let unit: String
            switch units {
            case .si:
                unit = row.unit
                values = [number(row.minimum), number(row.maximum), number(row.sum), number(row.mean)]
            case .display:
                let shown = DisplayUnit.forSI(row.unit, quantity: row.quantity)
                unit = shown.symbol
                values = [shown.number(row.minimum), shown.number(row.maximum),
                          shown.shown(shown.sum(row.sum, count: Int(clamping: row.count))), shown.number(row.mean)]
            }
            lines.append(([quote(row.serial), quote(row.metric), quote(unit), String(row.epochStart), String(row.epochEnd), String(row.count)] + values)
                .joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A text cell (serial, metric, unit: chosen by devices). Quoted when it
    /// holds `,` `"` CR or LF; and one starting with `=`, `+`, `-`, `@`, TAB
    /// or CR, which a spreadsheet would run as a formula
    /// (`=HYPERLINK(...)`), gets a `'` in front and is quoted (OWASP, CSV
    /// injection). Numbers are written by `number` and never pass here, so
    /// a negative minimum stays a number.
    static func quote(_ field: String) -> String {
        if let first = field.unicodeScalars.first, formulaStarts.contains(first) {
            return "\"'" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        // By scalar: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
