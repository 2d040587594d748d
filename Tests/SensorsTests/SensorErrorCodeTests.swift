import Foundation
import Hardware
import Sensors
import Testing

/// A sensor's error code travels in Telemetry as its raw value, so the
/// spellings are part of the wire format (docs/wire-format.md, "Sensor
/// status codes").
@Suite struct SensorErrorCodeTests {
    /// The rows of the document's table: (code, retried, re-detected).
    static func documentedCodes() throws -> [(code: String, retried: Bool, redetected: Bool)] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/wire-format.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let section = text.components(separatedBy: "### Sensor status codes").dropFirst().first else { return [] }
        let lines = section.components(separatedBy: "\n").prefix { !$0.hasPrefix("#") && !$0.hasPrefix("Example") }
        return lines.compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 4, cells[0].hasPrefix("`"), cells[0].hasSuffix("`") else { return nil }
            return (String(cells[0].dropFirst().dropLast()), cells[2] == "yes", cells[3] == "yes")
        }
    }

    @Test func theRawCodesAreExactlyTheOnesTheWireFormatDocumentLists() throws {
        let documented = try Self.documentedCodes()
        #expect(documented.map(\.code) == SensorError.Code.allCases.map(\.rawValue))
    }

    @Test func theDocumentSaysWhichCodesAreRetriedAndReDetectedAsTheCodeDecides() throws {
        for row in try Self.documentedCodes() {
            let code = try #require(SensorError.Code(rawValue: row.code))
            #expect(code.isTransient == row.retried, "\(row.code): retried")
            #expect(code.needsRedetection == row.redetected, "\(row.code): re-detected")
        }
    }

    @Test func theCodePrintsAsItsWireSpelling() {
        #expect("\(SensorError.Code.noAcknowledge)" == "no-ack")
        #expect("\(SensorError.Code.wrongChip)" == "wrong-chip")
    }

    /// The kernel's I2C fault codes (Documentation/i2c/fault-codes.rst) as
    /// `I2CError` kinds, and each as the code a technician sees.
    @Test(arguments: [
        (I2CErrorKind.noAcknowledgeAddress, "no-ack"), (.noAcknowledgeData, "no-ack"), (.missingBus, "no-bus"),
        (.permissionDenied, "permission"), (.unsupported, "unsupported"), (.bus, "bus"), (.arbitrationLoss, "bus"), (.other, "bus"),
    ])
    func aBusErrorBecomesTheCodeOfItsKind(kind: I2CErrorKind, wire: String) {
        let error = SensorError.bus(I2CError(kind: kind, bus: "/dev/i2c-1", address: 0x76, detail: "test"), chip: "BME280")
        #expect(error.code.rawValue == wire)
        #expect(error.message.hasPrefix("BME280: "))
    }
}
