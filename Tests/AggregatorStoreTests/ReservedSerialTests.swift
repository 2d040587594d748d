import Aggregator
import AggregatorStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport
import Wire

/// The serials enrollment refuses (`Serial.reserved`) and lifetimes it
/// refuses, through `StoreOperations` and the HTTP API on both real stores.
@Suite(.serialized) struct ReservedSerialTests {
    typealias Kind = StoreKind

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))

    func open(_ kind: Kind) async throws -> (any AggregatorDataStore, () -> Void) {
        let opened = try await kind.open(calendar: calendar, prefix: "reserved")
        return (opened.store, opened.stop)
    }

    func server(_ store: any AggregatorDataStore) -> AggregatorHTTPServer {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AggregatorHTTPServer(host: "127.0.0.1", port: 0, readModel: store,
                                    operations: StoreOperations(store: store, identity: TestAggregator.identity, maximumAttempts: 5, pinLength: 8),
                                    operatorToken: "0123456789abcdef", metrics: AggregatorMetrics(), logger: logger)
    }

    @Test(arguments: Kind.allCases)
    func reservedSerialsAreRefusedAtEnrollment(kind: Kind) async throws {
        let (store, stop) = try await open(kind)
        defer { stop() }
        let operations = StoreOperations(store: store, identity: TestAggregator.identity, maximumAttempts: 5, pinLength: 8)
        for serial in ["epochs", "log", "aggregator", "fieldproof-aggregator", "Epochs", "LOG"] {
            let error = await #expect(throws: InvalidSerial.self) { try await operations.enroll(serial: serial, expiresIn: .seconds(3600)) }
            #expect(error?.reserved == true)
            #expect(error?.description.contains("is reserved") == true, "\(String(describing: error))")
            #expect(try await store.deviceKeys(serial: serial) == nil)
        }
        for serial in ["fp+1", "fp#", "a/b", ""] {
            let error = await #expect(throws: InvalidSerial.self) { try await operations.enroll(serial: serial, expiresIn: .seconds(3600)) }
            #expect(error?.reserved == false)
        }
        // A lifetime past the bound is an error, not an overflow trap.
        await #expect(throws: InvalidExpiry.self) { try await operations.enroll(serial: "fp-0001", expiresIn: .seconds(106_751_991_167_300 * 86_400)) }
        await #expect(throws: InvalidExpiry.self) { try await operations.enroll(serial: "fp-0001", expiresIn: .zero) }
        let ticket = try await operations.enroll(serial: "epochs-1", expiresIn: .seconds(3600))
        #expect(ticket.pin.count == 8)
        #expect(try await store.deviceKeys(serial: "epochs-1") != nil)

        try await server(store).application().test(.router) { client in
            try await client.execute(uri: "/api/v1/enrollments?serial=epochs", method: .post,
                                     headers: [.authorization: "Bearer 0123456789abcdef"]) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("serial \\\"epochs\\\" is reserved"))
            }
            try await client.execute(uri: "/api/v1/enrollments?serial=fp-0002&expires=7d", method: .post,
                                     headers: [.authorization: "Bearer 0123456789abcdef"]) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test func decodingDoesNotRejectReservedSerials() throws {
        let telemetry = Telemetry(serial: "epochs", sequence: 1, floor: 0, timestamp: 1, clockSynchronised: true,
                                  bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: 1, readings: [], statuses: [])
        #expect(try Telemetry(decoding: telemetry.encode()).serial == "epochs")
        #expect(Serial.isValid("epochs") && Serial.isReserved("epochs") && !Serial.isReserved("fp-0001"))
    }
}
