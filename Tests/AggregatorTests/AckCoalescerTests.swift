@testable import Aggregator
import Logging
import Testing

@Suite struct AckCoalescerTests {
    @Test func aLateReportOfAnOlderSequenceNeverPublishesAnAckBackwards() async {
        let acks = RecordingAcks()
        let coalescer = AckCoalescer(publisher: acks, logger: Logger(label: "test"))
        await coalescer.acknowledge(serial: "dev-1", upTo: 284)
        await coalescer.flush()
        // A worker whose commit saw 280 reports after 284 went out.
        await coalescer.acknowledge(serial: "dev-1", upTo: 280)
        await coalescer.acknowledge(serial: "dev-1", upTo: 284)
        await coalescer.flush()
        await coalescer.acknowledge(serial: "dev-1", upTo: 285)
        await coalescer.flush()
        #expect(acks.all["dev-1"] == [284, 285])
    }
}
