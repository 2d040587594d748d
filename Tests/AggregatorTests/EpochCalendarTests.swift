@testable import Aggregator
import Testing

@Suite struct EpochCalendarTests {
    let hourly = EpochCalendar(length: .seconds(3600), grace: .seconds(300))

    @Test func epochsAlignToTheHour() {
        let t: Int64 = 1_795_561_454_374 // 2026-11-24 23:04:14.374 UTC
        #expect(hourly.start(of: t) == 1_795_561_200_000)
        #expect(hourly.id(ofEpochStartingAt: hourly.start(of: t)) == "2026-11-24T23:00Z-1h")
        #expect(hourly.start(of: 1_795_561_200_000) == 1_795_561_200_000, "a boundary belongs to the epoch it starts")
    }

    @Test func anEpochClosesOnlyAfterItsGrace() {
        let start: Int64 = 1_795_561_200_000 // 23:00
        let end = hourly.end(ofEpochStartingAt: start)
        #expect(hourly.lastClosable(at: end + 299_999) == start - 3_600_000, "23:00 epoch still open at 00:04:59")
        #expect(hourly.lastClosable(at: end + 300_000) == start, "closable from 00:05")
    }

    @Test func otherLengthsAndDates() {
        let daily = EpochCalendar(length: .seconds(86400), grace: .seconds(0))
        #expect(daily.id(ofEpochStartingAt: daily.start(of: 951_782_400_123)) == "2000-02-29T00:00Z-1d")
        let quarter = EpochCalendar(length: .seconds(900), grace: .seconds(60))
        #expect(quarter.id(ofEpochStartingAt: quarter.start(of: 1_795_561_454_374)) == "2026-11-24T23:00Z-15m")
        #expect(UTCText.seconds(0) == "1970-01-01 00:00:00 UTC")
        #expect(UTCText.seconds(-1) == "1969-12-31 23:59:59 UTC")
    }
}
