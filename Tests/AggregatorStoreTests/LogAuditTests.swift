import Aggregator
@testable import AggregatorStore
import Crypto
import Identity
import Testing
import TestSupport
import TransparencyLog
import Wire

/// The audit replays a store's log with nothing but the log and the log's
/// key: the tallies it recomputes are the store's, in both stores, across
/// epochs, re-pairing, revocation and messages re-timed once their boot is
/// anchored; a changed, missing or invented tally is named; and a log that
/// holds something no honest aggregator appends is refused at that entry.
@Suite(.serialized) struct LogAuditTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    /// On an hour boundary, so epoch 0 of these tests starts here.
    let t0: Int64 = 1_795_557_600_000
    let aggregator = TestAggregator.identity
    var logKey: Curve25519.Signing.PrivateKey { aggregator.signingKey }

    struct Sent {
        var serial: String
        var sequence: UInt64
        var value: Double
        var timestamp: Int64
        var synchronised = true
        var boot: UInt8 = 1
        var sinceBoot: Int64 = 0
    }

    func raw(_ sent: Sent, key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        let telemetry = Telemetry(serial: sent.serial, sequence: sent.sequence, floor: 0, timestamp: UInt64(sent.timestamp),
                                  clockSynchronised: sent.synchronised, bootID: [UInt8](repeating: sent.boot, count: 16),
                                  millisecondsSinceBoot: UInt64(sent.sinceBoot),
                                  readings: [.init(sensor: "air", quantity: "temperature", value: sent.value, unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        return try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
    }

    func stored(_ sent: Sent, key: Curve25519.Signing.PrivateKey) throws -> StoredMessage {
        let bytes = try raw(sent, key: key)
        let telemetry = try Telemetry(decoding: try COSESign1(decoding: bytes).payload)
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: bytes, keyID: KeyID.of(key.publicKey)), receivedAt: t0 + 7_200_000)
    }

    func audit(_ entries: [[UInt8]]) -> Result<LogAudit, LogAudit.Finding> {
        var audit = LogAudit(aggregatorKey: logKey.publicKey, calendar: calendar)
        do {
            for entry in entries { try audit.append(entry) }
            return .success(audit)
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theTalliesRecomputedFromTheLogAreTheStoresOwn(kind: StoreKind) async throws {
        let opened = try await kind.open(calendar: calendar, prefix: "logaudit")
        let store = opened.store
        defer { opened.stop() }
        let a1 = Curve25519.Signing.PrivateKey(), a2 = Curve25519.Signing.PrivateKey()
        let b1 = Curve25519.Signing.PrivateKey(), b2 = Curve25519.Signing.PrivateKey()
        try await store.bindKey(serial: "dev-a", publicKey: a1.publicKey, at: t0, logKey: logKey)
        try await store.bindKey(serial: "dev-b", publicKey: b1.publicKey, at: t0, logKey: logKey)
        for (sequence, value) in [(1, 290.5), (2, 288.25), (3, 293.0)] {
            _ = try await store.commit(try stored(Sent(serial: "dev-a", sequence: UInt64(sequence), value: value,
                                                       timestamp: t0 + Int64(sequence) * 1000), key: a1))
        }
        _ = try await store.commit(try stored(Sent(serial: "dev-a", sequence: 4, value: 280, timestamp: t0 + 3_600_005), key: a1))
        // dev-b boots with a wrong clock: its first two messages wait until
        // the third, synchronised, anchors the boot at t0.
        _ = try await store.commit(try stored(Sent(serial: "dev-b", sequence: 1, value: 1, timestamp: 10_000, synchronised: false,
                                                   boot: 2, sinceBoot: 10_000), key: b1))
        _ = try await store.commit(try stored(Sent(serial: "dev-b", sequence: 2, value: 2, timestamp: 3_600_000, synchronised: false,
                                                   boot: 2, sinceBoot: 3_600_000), key: b1))
        _ = try await store.commit(try stored(Sent(serial: "dev-b", sequence: 3, value: 3, timestamp: t0 + 30_000, boot: 2,
                                                   sinceBoot: 30_000), key: b1))
        // Epoch 0 sealed here: its summary commits to its tallies so far;
        // the two messages of epoch 0 stored after it count in the tallies
        // but not in the summary.
        let sealed = try #require(try await store.seal(epochStart: t0, key: logKey, now: t0 + 3_900_000))
        // dev-a 1-3 and dev-b 3; dev-b's untimed 1 and 2 are in the Merkle
        // tree of the epoch they arrived in.
        #expect(sealed.root.messageCount == 4)
                try await store.bindKey(serial: "dev-b", publicKey: b2.publicKey, at: t0 + 40_000, logKey: logKey)
        _ = try await store.commit(try stored(Sent(serial: "dev-b", sequence: 4, value: 4, timestamp: t0 + 50_000, boot: 2,
                                                   sinceBoot: 50_000), key: b2))
        #expect(try await store.revoke(serial: "dev-a", at: t0 + 60_000, logKey: logKey))
        #expect(try await store.reinstate(serial: "dev-a", at: t0 + 61_000, logKey: logKey))
        try await store.bindKey(serial: "dev-a", publicKey: a2.publicKey, at: t0 + 62_000, logKey: logKey)
        _ = try await store.commit(try stored(Sent(serial: "dev-a", sequence: 5, value: 300, timestamp: t0 + 63_000), key: a2))

        // dev-q pairs for real, declaring its sensor's interval (10 s): the
        // KeyEvent carries it, and the quality scores count against it.
        let kdf = PairRequest.KDFParameters(logN: 10, r: 8, p: 1)
        let (enrollment, pin) = try Enrollment.create(serial: "dev-q", expiresAt: UInt64(t0 + 3_600_000), maximumAttempts: 3, kdf: kdf)
        try await store.saveEnrollment(enrollment, at: t0)
        let request = try DevicePairing.makeRequest(serial: "dev-q", pin: pin, secret: DeviceSecret(bytes: [UInt8](repeating: 6, count: 32)),
                                                    board: "b", sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)],
                                                    time: UInt64(t0), aggregator: aggregator.publicKeys, kdf: kdf)
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        guard case .accepted = try await judge.judge(bytes: request.message, topic: Topics.pairRequest("dev-q"), now: t0).get().0 else {
            Issue.record("pairing was refused"); return
        }
        for sequence in 1...36 {
            // Every 100 s, six readings alike in a row: completeness 36/360, not stuck for 30 of 36.
            let value = sequence <= 6 ? 290 : 290 + Double(sequence) / 10
            _ = try await store.commit(try stored(Sent(serial: "dev-q", sequence: UInt64(sequence), value: value,
                                                       timestamp: t0 + Int64(sequence) * 100_000 - 50_000, boot: 3), key: request.identityKey))
        }

        let size = try await store.logSize()
        let replayed = try audit(try await store.logEntries(from: 0, count: Int(size))).get()
        #expect(replayed.entries == size)
        #expect(replayed.messages == 9 + 36)
        #expect(replayed.keyEvents == 7)
        #expect(replayed.sealedEpochs == [UInt64(t0)])
        #expect(replayed.entries == 9 + 36 + 7 + 1)

        // The quality scores recomputed from the log are the ones served.
        let scores = replayed.quality
        #expect(scores.map { "\($0.serial) \($0.epochStart - t0)" } == ["dev-a 0", "dev-a 3600000", "dev-b 0", "dev-b 3600000", "dev-q 0"])
        for recomputed in scores {
            let served = try await store.quality(serial: recomputed.serial, epochStart: recomputed.epochStart, now: t0 + 7_200_000)
            #expect(LogAudit.difference(recomputed: recomputed, served: served) == nil, "\(recomputed)")
        }
        let q = try #require(scores.last?.metrics.first?.quality)
        #expect(q.checks.first { $0.name == "completeness" }?.value == 0.1, "36 samples of the 360 the declared 10 s interval expects")
        #expect(q.checks.first { $0.name == "not_stuck" }?.value == 30.0 / 36)
        var tampered = try #require(try await store.quality(serial: "dev-q", epochStart: t0, now: t0 + 7_200_000))
        tampered.metrics[0].quality.checks[0].value = 1
        #expect(LogAudit.difference(recomputed: try #require(scores.last), served: tampered)
            == "dev-q epoch \(UTCText.minutes(t0)) air/temperature: quality check completeness served differently, the log makes 0.1")
        #expect(LogAudit.difference(recomputed: try #require(scores.last), served: nil)?.contains("serves no quality score") == true)
        let served = try await store.tallies(TallyQuery())
        #expect(LogAudit.difference(recomputed: replayed.tallies, served: served) == nil)
        let epoch0 = TallyRow(serial: "dev-a", metric: "air/temperature", unit: "K", epochStart: t0, epochEnd: t0 + 3_600_000,
                              count: 4, minimum: 288.25, maximum: 300, sum: 290.5 + 288.25 + 293 + 300)
        #expect(replayed.tallies.first == epoch0)
        // dev-b's second message ran 3,600 s past an anchor at t0: epoch 1.
        #expect(replayed.tallies.filter { $0.serial == "dev-b" }.map { [$0.epochStart, Int64($0.count)] }
            == [[t0, 3], [t0 + 3_600_000, 1]])

        // Each way the served tallies can stray from the log is named.
        func differs(_ change: (inout [TallyRow]) -> Void) -> String {
            var rows = served
            change(&rows)
            return LogAudit.difference(recomputed: replayed.tallies, served: rows) ?? "no difference"
        }
        let first = "dev-a air/temperature epoch \(UTCText.minutes(t0))"
        #expect(differs { $0[0].count += 1 } == "\(first): the aggregator counts 5 readings, the log 4")
        #expect(differs { $0[0].minimum = 200 } == "\(first): served minimum/maximum 200.0/300.0, logged 288.25/300.0")
        #expect(differs { $0[0].sum += 1 }.hasPrefix("\(first): served sum"))
        #expect(differs { $0[0].sum *= 1 + 1e-12 } == "no difference", "a sum added in another order")
        #expect(differs { $0[0].unit = "C" } == "\(first): unit C served, K logged")
        #expect(differs { $0.remove(at: 0) } == "\(first): the log makes a tally of 4 readings the aggregator does not serve")
        #expect(differs { $0.append($0[0]) } == "the aggregator serves the tally of \(first) twice")
        #expect(differs { $0[0].serial = "dev-z" }
            == "the aggregator serves a tally of dev-z air/temperature epoch \(UTCText.minutes(t0)) that no logged message makes")
    }

    @Test func aLogNoHonestAggregatorWritesIsRefusedAtItsFirstBadEntry() throws {
        let device = Curve25519.Signing.PrivateKey(), other = Curve25519.Signing.PrivateKey()
        func event(_ kind: KeyEvent.Kind, key: Curve25519.Signing.PrivateKey? = nil, by signer: Curve25519.Signing.PrivateKey? = nil) throws
            -> [UInt8] {
            try KeyEvent(kind: kind, serial: "dev-a", publicKey: key.map { Array($0.publicKey.rawRepresentation) }, time: UInt64(t0))
                .signed(by: signer ?? logKey)
        }
        func message(_ sequence: UInt64, _ key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
            try raw(Sent(serial: "dev-a", sequence: sequence, value: 290, timestamp: t0 + Int64(sequence)), key: key)
        }
        func refusal(_ entries: [[UInt8]]) -> LogAudit.Finding? {
            if case let .failure(finding) = audit(entries) { return finding }
            return nil
        }
        let paired = try event(.paired, key: device)

        #expect(try refusal([paired, message(1, device), message(2, device)]) == nil)
        let unbound = try #require(try refusal([message(1, device)]))
        #expect(unbound.index == 0 && unbound.problem.hasPrefix("unknown_device: "), "\(unbound)")
        let forged = try #require(try refusal([paired, event(.repaired, key: other, by: other)]))
        #expect(forged == LogAudit.Finding(index: 1, problem: "a key event not signed with the log's key"))
        let wrongKey = try #require(try refusal([paired, message(1, other)]))
        #expect(wrongKey.index == 1 && wrongKey.problem.hasPrefix("bad_signature: "), "\(wrongKey)")
        let afterRevocation = try #require(try refusal([paired, message(1, device), event(.revoked, key: device), message(2, device)]))
        #expect(afterRevocation.index == 3 && afterRevocation.problem.hasPrefix("revoked_key: "), "\(afterRevocation)")
        let oldKey = try #require(try refusal([paired, event(.repaired, key: other), message(1, device)]))
        #expect(oldKey.index == 2 && oldKey.problem.hasPrefix("revoked_key: "), "a re-paired device's old key: \(oldKey)")
        let twice = try #require(try refusal([paired, message(1, device), message(1, device)]))
        #expect(twice == LogAudit.Finding(index: 2, problem: "dev-a/1 is logged a second time"))
        let reinstated = try #require(try refusal([paired, event(.reinstated)]))
        #expect(reinstated == LogAudit.Finding(index: 1, problem: "dev-a is reinstated without being revoked"))
        let garbage = try #require(refusal([[0x01, 0x02, 0x03]]))
        #expect(garbage.index == 0 && garbage.problem.hasPrefix("not a signed Fieldproof message"), "\(garbage)")
        // Epoch summaries: the digest of the tallies the entries before make.
        let oneReading = [EpochSummaryEntry.Tally(serial: "dev-a", metric: "air/temperature", unit: "K", count: 1, minimum: 290, maximum: 290)]
        func summary(logSize: UInt64, _ tallies: [EpochSummaryEntry.Tally], by signer: Curve25519.Signing.PrivateKey? = nil) throws -> [UInt8] {
            let epoch = EpochRoot(id: "e0", start: UInt64(t0), end: UInt64(t0 + 3_600_000), messageCount: 1, root: [UInt8](repeating: 0, count: 32),
                                  time: UInt64(t0 + 3_900_000))
            return try EpochSummaryEntry(epoch: epoch, logSize: logSize, tallies: tallies).signed(by: signer ?? logKey)
        }
        #expect(try refusal([paired, message(1, device), summary(logSize: 2, oneReading), message(2, device)]) == nil)
        var twoReadings = oneReading
        twoReadings[0].count = 2
        let inflated = try #require(try refusal([paired, message(1, device), summary(logSize: 2, twoReadings)]))
        #expect(inflated.index == 2 && inflated.problem.contains("commits to other tallies than the 1 (1 readings)"), "\(inflated)")
        let misplaced = try #require(try refusal([paired, message(1, device), summary(logSize: 1, oneReading)]))
        #expect(misplaced.index == 2 && misplaced.problem.contains("says the log held 1 entries, but it is entry 2"), "\(misplaced)")
        let unsigned = try #require(try refusal([paired, message(1, device), summary(logSize: 2, oneReading, by: other)]))
        #expect(unsigned == LogAudit.Finding(index: 2, problem: "an epoch summary not signed with the log's key"))
        let again = try #require(try refusal([paired, message(1, device), summary(logSize: 2, oneReading), summary(logSize: 3, oneReading)]))
        #expect(again == LogAudit.Finding(index: 3, problem: "epoch e0 is summarised a second time"))

        let ack = try COSESign1.sign(payload: Ack(serial: "dev-a", highestContiguous: 1, time: 5).encode(), with: logKey,
                                     keyID: KeyID.of(logKey.publicKey))
        let notLogged = try #require(refusal([paired, ack]))
        #expect(notLogged.index == 1 && notLogged.problem.hasPrefix("an entry of message type"), "\(notLogged)")
    }
}
