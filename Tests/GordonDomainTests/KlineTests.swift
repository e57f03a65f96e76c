import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Kline validation")
struct KlineTests {
    /// Binance's first BTCUSDT daily kline, from `/api/v3/klines`.
    static func kline(
        interval: Interval = .oneDay, openTime: Int64 = 1_502_928_000_000, closeTime: Int64 = 1_503_014_399_999,
        open: String = "4261.48", high: String = "4485.39", low: String = "4200.74", close: String = "4285.08",
        volume: String = "795.150377", quoteVolume: String = "3454770.05073206", trades: Int = 3427,
        takerBase: String = "616.248541", takerQuote: String = "2678216.40060401"
    ) throws(GordonError) -> Kline {
        try Kline(
            symbol: Symbol("BTCUSDT"), interval: interval, openTime: Timestamp(milliseconds: openTime),
            closeTime: Timestamp(milliseconds: closeTime), open: Price(parsing: open), high: Price(parsing: high),
            low: Price(parsing: low), close: Price(parsing: close), volume: Quantity(parsing: volume),
            quoteVolume: ExactDecimal(parsing: quoteVolume), trades: trades,
            takerBuyBaseVolume: ExactDecimal(parsing: takerBase), takerBuyQuoteVolume: ExactDecimal(parsing: takerQuote),
            isClosed: true)
    }

    @Test func acceptsARealKline() throws {
        let kline = try Self.kline()
        #expect(kline.high == (try price("4485.39")))
        #expect(kline.closeTime.milliseconds == 1_503_014_399_999)
    }

    @Test func acceptsFlatAndMonthlyKlines() throws {
        let flat = try Self.kline(open: "1", high: "1", low: "1", close: "1", volume: "0", quoteVolume: "0", trades: 0, takerBase: "0", takerQuote: "0")
        #expect(flat.trades == 0)
        // February 2024 has 29 days: the month kline closes on the 29th.
        let month = try Self.kline(interval: .oneMonth, openTime: 1_706_745_600_000, closeTime: 1_709_251_199_999)
        #expect(month.interval == .oneMonth)
    }

    @Test func rejectsInconsistentPricesTimesAndVolumes() {
        // (interval, open time, close time, open, high, low, close, volume, quote, trades, taker base, taker quote)
        typealias Case = (Interval, Int64, Int64, String, String, String, String, String, String, Int, String, String)
        let good: Case = (.oneDay, 1_502_928_000_000, 1_503_014_399_999, "10", "12", "9", "11", "5", "50", 3, "2", "20")
        var cases: [Case] = []
        var bad = good; bad.4 = "10.5"; cases.append(bad)  // high below close
        bad = good; bad.4 = "9.5"; bad.6 = "9.5"; cases.append(bad)  // high below open
        bad = good; bad.5 = "10.5"; cases.append(bad)  // low above open
        bad = good; bad.5 = "12.5"; bad.4 = "12"; cases.append(bad)  // low above high
        bad = good; bad.2 = bad.1; cases.append(bad)  // close time equals open time
        bad = good; bad.2 = bad.1 - 1; cases.append(bad)  // close before open
        bad = good; bad.1 += 1; cases.append(bad)  // open off the daily grid
        bad = good; bad.2 += 1; cases.append(bad)  // close is not the last millisecond
        bad = good; bad.0 = .oneMonth; cases.append(bad)  // 17 Aug is not a month open
        bad = good; bad.9 = -1; cases.append(bad)
        bad = good; bad.8 = "-1"; cases.append(bad)
        bad = good; bad.10 = "5.1"; cases.append(bad)  // taker base above volume
        bad = good; bad.11 = "50.1"; cases.append(bad)  // taker quote above quote volume
        bad = good; bad.10 = "-1"; cases.append(bad)
        for (index, item) in cases.enumerated() {
            let code = thrownCode { () throws(GordonError) in
                try Self.kline(interval: item.0, openTime: item.1, closeTime: item.2, open: item.3, high: item.4, low: item.5,
                               close: item.6, volume: item.7, quoteVolume: item.8, trades: item.9, takerBase: item.10, takerQuote: item.11)
            }
            #expect(code == .invalidKline, "case \(index)")
        }
        // The unmodified case is valid, so each failure above is due to its one change.
        #expect(thrownCode { () throws(GordonError) in
            try Self.kline(interval: good.0, openTime: good.1, closeTime: good.2, open: good.3, high: good.4, low: good.5,
                           close: good.6, volume: good.7, quoteVolume: good.8, trades: good.9, takerBase: good.10, takerQuote: good.11)
        } == nil)
    }

    @Test func microsecondCloseTimesAreCaught() {
        // Binance public-data files from 2025 carry microseconds: both fields × 1000.
        #expect(thrownCode { () throws(GordonError) in
            try Self.kline(openTime: 1_502_928_000_000_000, closeTime: 1_503_014_399_999_999)
        } == .invalidKline)
    }

    @Test func roundTripsThroughJSONAndValidatesOnDecode() throws {
        let kline = try Self.kline()
        let data = try JSONEncoder().encode(kline)
        #expect(try JSONDecoder().decode(Kline.self, from: data) == kline)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""open":"4261.48""#))
        #expect(json.contains(#""openTime":1502928000000"#))
        let broken = json.replacingOccurrences(of: #""high":"4485.39""#, with: #""high":"4000""#)
        #expect(broken != json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Kline.self, from: Data(broken.utf8)) }
    }
}
