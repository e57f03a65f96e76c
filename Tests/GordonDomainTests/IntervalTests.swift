import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Interval and Timestamp")
struct IntervalTests {
    static let day: Int64 = 86_400_000

    @Test func parsesAllSixteenBinanceStrings() throws {
        let strings = ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"]
        #expect(Interval.allCases.map(\.rawValue) == strings)
        for text in strings {
            #expect(try Interval(parsing: text).rawValue == text)
        }
        #expect(try Interval(parsing: "1m") == .oneMinute)
        #expect(try Interval(parsing: "1M") == .oneMonth)
    }

    @Test(arguments: ["1H", "60m", "", "1D", "1W", "2d", "1mo", " 1m", "1m ", "m1", "4H"])
    func rejectsOtherStrings(text: String) {
        #expect(thrownCode { () throws(GordonError) in try Interval(parsing: text) } == .invalidInterval)
    }

    @Test func lengths() {
        #expect(Interval.oneSecond.milliseconds == 1000)
        #expect(Interval.fifteenMinutes.milliseconds == 900_000)
        #expect(Interval.twelveHours.milliseconds == 43_200_000)
        #expect(Interval.threeDays.milliseconds == 3 * Self.day)
        #expect(Interval.oneWeek.milliseconds == 7 * Self.day)
        #expect(Interval.oneMonth.milliseconds == nil)
        #expect(Interval.oneMonth.nominalMilliseconds == 30 * Self.day)
        for interval in Interval.allCases where interval != .oneMonth {
            #expect(interval.nominalMilliseconds == interval.milliseconds)
        }
        let sorted = Interval.allCases.map(\.nominalMilliseconds)
        #expect(sorted == sorted.sorted())
    }

    @Test func fixedIntervalsAlignToTheEpoch() {
        let time: Int64 = 1_704_067_200_000 + 3_723_456  // 2024-01-01T01:02:03.456Z
        #expect(Interval.oneSecond.openTime(containing: time) == 1_704_067_200_000 + 3_723_000)
        #expect(Interval.oneMinute.openTime(containing: time) == 1_704_067_200_000 + 3_720_000)
        #expect(Interval.fifteenMinutes.openTime(containing: time) == 1_704_067_200_000 + 3_600_000)
        #expect(Interval.fourHours.openTime(containing: time) == 1_704_067_200_000)
        #expect(Interval.oneDay.openTime(containing: time) == 1_704_067_200_000)
        #expect(Interval.threeDays.openTime(containing: time) % (3 * Self.day) == 0)
        #expect(Interval.oneHour.nextOpenTime(after: time) == 1_704_067_200_000 + 7_200_000)
        #expect(Interval.oneDay.openTime(containing: -1) == -Self.day)
        #expect(Interval.oneMinute.openTime(containing: -60_001) == -120_000)
    }

    @Test func weeksOpenOnMondayUTC() {
        let monday: Int64 = 1_704_067_200_000  // 2024-01-01, a Monday
        #expect(Interval.oneWeek.openTime(containing: monday) == monday)
        #expect(Interval.oneWeek.openTime(containing: monday + 7 * Self.day - 1) == monday)  // Sunday 23:59:59.999
        #expect(Interval.oneWeek.openTime(containing: monday - 1) == monday - 7 * Self.day)
        #expect(Interval.oneWeek.nextOpenTime(after: monday) == monday + 7 * Self.day)
        // Binance's first BTCUSDT weekly kline opened 2017-08-14, a Monday.
        #expect(Interval.oneWeek.openTime(containing: 1_502_928_000_000) == 1_502_668_800_000)
        // The epoch was a Thursday; its week began on Monday 1969-12-29.
        #expect(Interval.oneWeek.openTime(containing: 0) == -259_200_000)
        // A week spanning the new year opens in the old one.
        #expect(Interval.oneWeek.openTime(containing: 1_735_689_600_000) == 1_735_516_800_000)
        #expect(Interval.oneWeek.nextOpenTime(after: 1_735_689_600_000) == 1_736_121_600_000)
    }

    @Test(arguments: [
        // (instant, month open, next month open)
        (Int64(1_704_067_199_999), Int64(1_701_388_800_000), Int64(1_704_067_200_000)),  // 2023-12-31T23:59:59.999 → Dec, next Jan
        (1_704_067_200_000, 1_704_067_200_000, 1_706_745_600_000),  // 2024-01-01 → Jan, next Feb
        (1_709_251_199_999, 1_706_745_600_000, 1_709_251_200_000),  // 2024-02-29 end: leap February, 29 days
        (1_676_000_000_000, 1_675_209_600_000, 1_677_628_800_000),  // February 2023: 28 days
        (950_000_000_000, 949_363_200_000, 951_868_800_000),  // February 2000: leap (divisible by 400)
        (4_106_000_000_000, 4_105_123_200_000, 4_107_542_400_000),  // February 2100: not leap
        (-2_205_000_000_000, -2_206_310_400_000, -2_203_891_200_000),  // February 1900, before the epoch
        (-1, -2_678_400_000, 0),  // the last millisecond of 1969
        (1_502_928_000_000, 1_501_545_600_000, 1_504_224_000_000),  // August 2017
    ])
    func monthsFollowTheCalendar(instant: Int64, open: Int64, next: Int64) {
        #expect(Interval.oneMonth.openTime(containing: instant) == open)
        #expect(Interval.oneMonth.nextOpenTime(after: open) == next)
        #expect(Interval.oneMonth.nextOpenTime(after: instant) == next)
        #expect(Interval.oneMonth.closeTime(forOpenTime: open) == next - 1)
    }

    @Test func walkingMonthsCoversEveryMillisecondOnce() {
        // Twelve years of months, crossing leap years and year ends, without gaps or overlaps.
        var open = Interval.oneMonth.openTime(containing: 1_577_836_800_000)  // 2020-01-01
        #expect(open == 1_577_836_800_000)
        var lengths: [Int64] = []
        for _ in 0..<144 {
            let next = Interval.oneMonth.nextOpenTime(after: open)
            #expect(Interval.oneMonth.openTime(containing: next - 1) == open)
            #expect(Interval.oneMonth.openTime(containing: next) == next)
            lengths.append((next - open) / Self.day)
            open = next
        }
        #expect(open == 1_956_528_000_000)  // 2032-01-01
        #expect(Set(lengths) == [28, 29, 30, 31])
        #expect(lengths.filter { $0 == 29 }.count == 3)  // 2020, 2024, 2028
    }

    @Test func everyIntervalTilesTime() {
        var generator = SplitMix64(seed: 42)
        for interval in Interval.allCases {
            for _ in 0..<200 {
                let instant = Int64.random(in: -4_000_000_000_000...4_000_000_000_000, using: &generator)
                let open = interval.openTime(containing: instant)
                let next = interval.nextOpenTime(after: instant)
                #expect(open <= instant && instant < next, "\(interval) \(instant)")
                #expect(interval.openTime(containing: open) == open)
                #expect(interval.nextOpenTime(after: open) == next)
                #expect(interval.closeTime(forOpenTime: open) == next - 1)
            }
        }
    }

    @Test func timestampOverloadsAgree() {
        let time = Timestamp(milliseconds: 1_709_251_199_999)
        #expect(Interval.oneMonth.openTime(containing: time) == Timestamp(milliseconds: 1_706_745_600_000))
        #expect(Interval.oneMonth.nextOpenTime(after: time) == Timestamp(milliseconds: 1_709_251_200_000))
    }

    @Test("ISO 8601 date-times as the watchdog and restic write them, offsets applied; anything else is nil")
    func timestampParsesISO8601() {
        #expect(Timestamp(iso8601: "2024-02-29T23:59:59.999Z") == Timestamp(milliseconds: 1_709_251_199_999))
        #expect(Timestamp(iso8601: "2024-02-29T23:59:59Z") == Timestamp(milliseconds: 1_709_251_199_000))
        // restic: nanoseconds and the local offset.
        #expect(Timestamp(iso8601: "2026-12-07T11:00:00.123456789+01:00") == Timestamp(milliseconds: 1_796_637_600_123))
        #expect(Timestamp(iso8601: "2026-12-07T09:00:00-04:30") == Timestamp(milliseconds: 1_796_650_200_000))
        #expect(Timestamp(iso8601: "1970-01-01T00:00:00.5Z") == Timestamp(milliseconds: 500))
        for text in ["2024-02-30T00:00:00Z", "2024-02-29T24:00:00Z", "2024-02-29 23:59:59Z", "2024-02-29T23:59:59",
                     "2024-02-29T23:59:59.Z", "2024-02-29T23:59:59+0100", "2024-02-29T23:59:59Zjunk", "2024-02-29", ""] {
            #expect(Timestamp(iso8601: text) == nil, "\(text)")
        }
    }

    @Test func timestampPrintsISO8601AndCodesAsInteger() throws {
        #expect(Timestamp(milliseconds: 1_709_251_199_999).description == "2024-02-29T23:59:59.999Z")
        #expect(Timestamp(milliseconds: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: 1) > Timestamp(milliseconds: 0))
        let data = try JSONEncoder().encode(Timestamp(milliseconds: 1_704_067_200_000))
        #expect(String(decoding: data, as: UTF8.self) == "1704067200000")
        #expect(try JSONDecoder().decode(Timestamp.self, from: data) == Timestamp(milliseconds: 1_704_067_200_000))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Timestamp.self, from: Data(#""1704067200000""#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Timestamp.self, from: Data("1.5".utf8)) }
    }

    @Test func intervalCodesAsRawValue() throws {
        #expect(String(decoding: try JSONEncoder().encode(Interval.oneMonth), as: UTF8.self) == #""1M""#)
        #expect(try JSONDecoder().decode(Interval.self, from: Data(#""1m""#.utf8)) == .oneMinute)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Interval.self, from: Data(#""1H""#.utf8)) }
    }
}
