import Units
/// The dashboard: one server-rendered page (HTML, inline CSS and SVG; no
/// scripts and nothing loaded from elsewhere), refreshed every 15 s.
struct DashboardPage {
    var devices: [DeviceSummary]
    var activity: [ActivityBucket]
    var latest: [LatestReading]
    var epochs: [EpochSummary]
    /// The transparency log and its witnesses; nil when none is served.
    var log: TransparencyLogStatus? = nil
    var now: Int64

    func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Fieldproof aggregator</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1d2733;background:#f6f8fa}
        h1{font-size:1.4rem;margin:0 0 1rem} h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
        table{border-collapse:collapse;background:#fff;width:100%;font-size:.9rem}
        th,td{padding:.35rem .6rem;border-bottom:1px solid #e3e8ee;text-align:left} th{background:#eef2f6}
        td.num{text-align:right;font-variant-numeric:tabular-nums} .bad{color:#b42318} .ok{color:#067647}
        .card{background:#fff;padding:.8rem;border:1px solid #e3e8ee;border-radius:6px}
        .muted{color:#667085} code{font-size:.8rem}
        </style></head><body>
        <h1>Fieldproof aggregator</h1>
        <p class="muted">\(devices.count) device(s) · \(devices.reduce(0) { $0 + $1.accepted }) accepted · \(devices.reduce(0) { $0 + $1.redelivered }) redelivered · \(devices.reduce(0) { $0 + $1.rejected.values.reduce(0, +) }) rejected · updated \(Self.time(now))</p>
        <h2>Accepted and rejected, last 24 hours</h2>
        <div class="card">\(activityChart())</div>
        <h2>Devices</h2>
        \(deviceTable())
        <h2>Latest readings</h2>
        \(readingsTable())
        <h2>Signed epochs</h2>
        \(epochTable())
        \(logSection())
        </body></html>
        """
    }

    func activityChart() -> String {
        let width = 720.0, height = 160.0, left = 40.0, bottom = 20.0
        let peak = max(1, activity.map { $0.accepted + $0.rejected }.max() ?? 1)
        let slot = (width - left) / Double(max(1, activity.count))
        var bars = ""
        for (index, bucket) in activity.enumerated() {
            let x = left + Double(index) * slot
            let acceptedHeight = (height - bottom) * Double(bucket.accepted) / Double(peak)
            let rejectedHeight = (height - bottom) * Double(bucket.rejected) / Double(peak)
            bars += "<rect class=\"accepted\" x=\"\(Self.f(x + 1))\" y=\"\(Self.f(height - bottom - acceptedHeight))\" width=\"\(Self.f(slot - 2))\" height=\"\(Self.f(acceptedHeight))\" fill=\"#2e90fa\"><title>\(bucket.accepted) accepted</title></rect>"
            bars += "<rect class=\"rejected\" x=\"\(Self.f(x + 1))\" y=\"\(Self.f(height - bottom - acceptedHeight - rejectedHeight))\" width=\"\(Self.f(slot - 2))\" height=\"\(Self.f(rejectedHeight))\" fill=\"#f04438\"><title>\(bucket.rejected) rejected</title></rect>"
        }
        return """
            <svg role="img" aria-label="accepted and rejected messages per hour" width="100%" viewBox="0 0 \(Self.f(width)) \(Self.f(height))">
            <text x="0" y="12" font-size="11" fill="#667085">\(peak)</text><text x="0" y="\(Self.f(height - bottom))" font-size="11" fill="#667085">0</text>
            <line x1="\(Self.f(left))" y1="\(Self.f(height - bottom))" x2="\(Self.f(width))" y2="\(Self.f(height - bottom))" stroke="#98a2b3"/>
            \(bars)
            <text x="\(Self.f(left))" y="\(Self.f(height - 4))" font-size="11" fill="#667085">−24 h</text><text x="\(Self.f(width - 30))" y="\(Self.f(height - 4))" font-size="11" fill="#667085">now</text>
            </svg>
            """
    }

    func deviceTable() -> String {
        guard !devices.isEmpty else { return "<p class=\"muted\">No devices yet: enroll one with <code>fieldproof-aggregator enroll --serial …</code>.</p>" }
        var rows = ""
        for device in devices {
            let rejected = device.rejected.values.reduce(0, +)
            let reasons = device.rejected.sorted { $0.key < $1.key }.map { "\(Self.escape($0.key)): \($0.value)" }.joined(separator: ", ")
            rows += "<tr class=\"device\"><td><code>\(Self.escape(device.serial))</code></td>"
                + "<td>\(device.revoked ? "<span class=\"bad\">revoked</span>" : (device.keyID == nil ? "enrolled" : "<span class=\"ok\">paired</span>"))</td>"
                + "<td class=\"num\">\(device.accepted)</td>"
                + "<td class=\"num\" title=\"sent again for want of an ack: acknowledged again, not rejected\">\(device.redelivered)</td>"
                + "<td class=\"num\" title=\"\(reasons)\">\(rejected)</td>"
                + "<td class=\"num\">\(device.highestContiguous)</td>"
                + "<td class=\"num\">\(device.coverage.map { Self.percent($0) } ?? "–")</td>"
                + "<td class=\"num\">\(device.quality.map { Self.f($0, digits: 2) } ?? "–")</td>"
                + "<td>\(device.lastSeen.map(Self.time) ?? "never")</td></tr>"
        }
        return "<table><thead><tr><th>device</th><th>state</th><th>accepted</th><th>redelivered</th><th>rejected</th><th>acknowledged up to</th><th>coverage</th><th>quality</th><th>last seen</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    func readingsTable() -> String {
        guard !latest.isEmpty else { return "<p class=\"muted\">No readings yet.</p>" }
        var rows = ""
        for reading in latest {
            rows += "<tr><td><code>\(Self.escape(reading.serial))</code></td><td>\(Self.escape(reading.metric))</td>"
                + "<td class=\"num\" title=\"\(Self.escape("\(reading.value) \(reading.unit)"))\">\(Self.escape(UnitSystem.display.text(reading.value, unit: reading.unit, quantity: reading.quantity)))</td>"
                + "<td>\(Self.sparkline(reading.recent))</td><td>\(Self.time(reading.at))</td></tr>"
        }
        return "<table><thead><tr><th>device</th><th>metric</th><th>value</th><th>recent</th><th>at</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    func epochTable() -> String {
        guard !epochs.isEmpty else { return "<p class=\"muted\">No closed epoch yet.</p>" }
        var rows = ""
        for epoch in epochs.reversed() {
            rows += "<tr><td><a href=\"/api/v1/epochs/\(Self.escape(epoch.id))\">\(Self.escape(epoch.id))</a></td><td>\(Self.time(epoch.start))</td>"
                + "<td class=\"num\">\(epoch.messageCount)</td><td><code>\(Self.escape(String(epoch.root.prefix(16))))…</code></td></tr>"
        }
        return "<table><thead><tr><th>epoch</th><th>start</th><th>messages</th><th>Merkle root</th></tr></thead><tbody>\(rows)</tbody></table>"
    }

    func logSection() -> String {
        guard let log else { return "" }
        var summary = "<code>\(Self.escape(log.origin))</code> · \(log.size) entries · "
        if log.witnesses.isEmpty {
            summary += "<span class=\"muted\">not witnessed (no <code>log.witnesses</code> configured)</span>"
        } else if let size = log.cosignedSize {
            summary += "<span class=\"ok cosigned\">cosigned checkpoint of \(size) entries</span> at \(log.cosignedAt.map(Self.time) ?? "–")"
                + " (quorum \(log.quorum) of \(log.witnesses.count))"
        } else {
            summary += "<span class=\"bad cosigned\">no checkpoint has reached the witness quorum (\(log.quorum) of \(log.witnesses.count)) yet</span>"
        }
        var rows = ""
        for witness in log.witnesses {
            let state = witness.lastError.map { "<span class=\"bad\">\(Self.escape($0))</span>" } ?? "<span class=\"ok\">ok</span>"
            rows += "<tr class=\"witness\"><td><code>\(Self.escape(witness.url))</code></td><td>\(Self.escape(witness.name))</td>"
                + "<td class=\"num\">\(witness.cosignedSize.map(String.init) ?? "–")</td><td>\(witness.cosignedAt.map(Self.time) ?? "never")</td>"
                + "<td>\(state)</td><td>\(witness.lastAttemptAt.map(Self.time) ?? "never")</td></tr>"
        }
        let table = rows.isEmpty ? "" : "<table><thead><tr><th>witness</th><th>name</th><th>cosigned size</th><th>cosigned at</th><th>last answer</th><th>last asked</th></tr></thead><tbody>\(rows)</tbody></table>"
        return "<h2>Transparency log</h2>\n<p>\(summary) · <a href=\"/log/checkpoint\">checkpoint</a> · <a href=\"/api/v1/log\">JSON</a></p>\n\(table)"
    }

    static func sparkline(_ values: [Double]) -> String {
        guard values.count >= 2, let low = values.min(), let high = values.max() else { return "" }
        let width = 120.0, height = 24.0
        let span = high - low == 0 ? 1 : high - low
        let points = values.enumerated().map { index, value in
            "\(f(Double(index) * width / Double(values.count - 1))),\(f(height - 2 - (value - low) / span * (height - 4)))"
        }.joined(separator: " ")
        return "<svg width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\"><polyline fill=\"none\" stroke=\"#2e90fa\" stroke-width=\"1.5\" points=\"\(points)\"/></svg>"
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    static func f(_ value: Double, digits: Int = 1) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }

    static func percent(_ value: Double) -> String { f(value * 100) + " %" }

    static func time(_ milliseconds: Int64) -> String { UTCText.seconds(milliseconds) }
}
