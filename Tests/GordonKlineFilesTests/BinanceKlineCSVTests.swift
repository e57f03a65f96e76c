import GordonDomain
import GordonKernel
import GordonStrategy
import Testing
@testable import GordonKlineFiles

@Suite("Binance kline CSV")
struct BinanceKlineCSVTests {
    let rows = [
        "1704067200000,42283.58000000,42298.62000000,42283.57000000,42298.61000000,35.91548000,1704067259999,1518738.74954830,1404,22.92436000,969445.89087130,0",
        "1704067260000,42298.62000000,42320.00000000,42298.61000000,42320.00000000,21.65070000,1704067319999,916128.99876190,1170,14.55420000,615826.13697120,0",
        "1704067320000,42319.99000000,42331.54000000,42310.00000000,42325.50000000,15.24000000,1704067379999,644902.05340790,1083,7.38034000,312310.21219530,0",
    ]

    func parse(_ text: String, name: String = "BTCUSDT-1m-2024-01.csv",
               interval: Interval = .oneMinute) throws(GordonError) -> BarSeries {
        try BinanceKlineCSV.parse(Array(text.utf8), name: name, symbol: btcusdt, interval: interval)
    }

    func message(_ text: String, interval: Interval = .oneMinute) -> String? {
        caught { () throws(GordonError) in try parse(text, interval: interval) }?.message
    }

    @Test func withHeaderInMilliseconds() throws {
        let series = try parse(BinanceKlineCSV.header + "\n" + rows.joined(separator: "\n") + "\n")
        #expect(series.count == 3)
        #expect(series.priceDecimals == 2)  // trailing zeros do not count
        #expect(series.openTime == [1_704_067_200_000, 1_704_067_260_000, 1_704_067_320_000])
        #expect(series[0] == Bar(openTime: 1_704_067_200_000, open: 42283.58, high: 42298.62, low: 42283.57,
                                 close: 42298.61, volume: 35.91548))
        #expect(series.exactPrice(series.close[2]) == (try Price(parsing: "42325.5")))
        #expect(series.gaps().isEmpty)
    }

    @Test func withoutHeaderInMicrosecondsCRLFNoFinalNewline() throws {
        let micro = rows.map { row -> String in
            var fields = row.split(separator: ",").map(String.init)
            fields[0] += "000"
            fields[6] += "999"
            return fields.joined(separator: ",")
        }
        let series = try parse(micro.joined(separator: "\r\n"))
        let reference = try parse(rows.joined(separator: "\n"))
        #expect(series.count == 3)
        #expect(series.openTime == reference.openTime)
        #expect(series.close == reference.close)
        #expect((0..<3).map { series[$0] } == (0..<3).map { reference[$0] })
        // Headers, CRLF and a trailing CRLF together.
        let crlf = try parse(BinanceKlineCSV.header + "\r\n" + micro.joined(separator: "\r\n") + "\r\n")
        #expect(crlf.openTime == reference.openTime)
    }

    @Test func sixColumnsAndBlankLines() throws {
        let text = "open_time,open,high,low,close,volume\n\n1704067200000,1.5,2,1,1.25,10\n1704067260000,1.25,1.3,1.2,1.3,0\n\n"
        let series = try parse(text)
        #expect(series.count == 2)
        #expect(series.priceDecimals == 2)
        #expect(series.close == [1.25, 1.3])
        #expect(series.volume == [10, 0])
    }

    @Test func exactDecimals() throws {
        let text = "1704067200000,0.00000001,12345678.12345678,0.00000001,0.12345678,1\n"
        let series = try parse(text)
        #expect(series.priceDecimals == 8)
        #expect(series.exactPrice(series.high[0]) == (try Price(parsing: "12345678.12345678")))
        #expect(series.exactPrice(series.open[0]) == (try Price(parsing: "0.00000001")))
        #expect(series.exactPrice(series.close[0]) == (try Price(parsing: "0.12345678")))
        #expect(series.open[0] == 1e-8)
        #expect(series.close[0] == 0.12345678)
        // More than 8 places: parsed as well as a Double can, priceDecimals capped at 8.
        let long = try parse("1704067200000,1.1234567891,2,1,1.5,123456789012345678901.5\n")
        #expect(long.priceDecimals == 8)
        #expect(long.open[0] == 1.1234567891)
        #expect(long.volume[0] == 123456789012345678901.5)
    }

    @Test func badColumnCountNamesTheLine() {
        var broken = rows
        broken.insert("1704067260000,1,2,1,1,1,1704067319999", at: 1)
        #expect(message(BinanceKlineCSV.header + "\n" + broken.joined(separator: "\n"))
                == "BTCUSDT-1m-2024-01.csv line 3: expected 12 columns, found 7")
        #expect(message("1704067200000,1,2,1,1,1,1\n")
                == "BTCUSDT-1m-2024-01.csv line 1: expected 12 columns (or 6: open_time,open,high,low,close,volume), found 7")
        let error = caught { () throws(GordonError) in try parse(rows[0] + "\n" + rows[1] + ",5\n") }
        #expect(error?.code == .invalidMarketData)
        #expect(error?.context["line"] == "2")
        #expect(error?.message.hasSuffix("expected 12 columns, found 13") == true)
    }

    @Test func rowChecks() {
        // low above high
        let inverted = "1704067200000,100,99,101,100,1\n"
        #expect(message(inverted)?.hasPrefix("BTCUSDT-1m-2024-01.csv line 1: prices out of order") == true)
        // close above high
        #expect(message("1704067200000,100,101,99,102,1\n")?.contains("prices out of order") == true)
        // a field that is not a number
        #expect(message(rows[0] + "\n1704067260000,42298.62,4x,42298.61,42320,21.6\n")
                == "BTCUSDT-1m-2024-01.csv line 2: expected 12 columns, found 6")
        #expect(message(rows[0] + "\n" + rows[1].replacing("42320.00000000,21", with: "42320.00000000,-21"))
                == "BTCUSDT-1m-2024-01.csv line 2: volume '-21.65070000' is not an unsigned decimal number")
        #expect(message(rows[1].replacing(",1170,", with: ",1x70,"))
                == "BTCUSDT-1m-2024-01.csv line 1: count '1x70' is not an unsigned decimal number")
        #expect(message("17040672OO000,1,1,1,1,1\n")?.contains("open_time '17040672OO000' is not a whole number") == true)
        #expect(message("1704067200000,1,,1,1,1\n")?.contains("high '' is not") == true)
        // off the grid, out of order, mixed units
        #expect(message("1704067201000,1,1,1,1,1\n")?.contains("is not on the 1m grid") == true)
        #expect(message("1704067200000,1,1,1,1,1\n1704067200000,1,1,1,1,1\n")?.contains("line 2: open_time") == true)
        #expect(message("1704067200000000,1,1,1,1,1\n1704067260000,1,1,1,1,1\n")?
                    .contains("line 2: open_time 1704067260000 is in milliseconds") == true)
        #expect(message("1704067200000,1,1,1,1,1\n1704067260000000,1,1,1,1,1\n")?.contains("in microseconds") == true)
        // a header that is not Binance's
        #expect(message("time,open,high,low,close,volume\n")?.contains("neither a kline row nor Binance's header") == true)
        // month grid: the first of the month only
        #expect(message("1706745600000,1,1,1,1,1\n", interval: .oneMonth) == nil)  // 2024-02-01
        #expect(message("1706832000000,1,1,1,1,1\n", interval: .oneMonth)?.contains("not on the 1M grid") == true)
    }

    @Test func emptyFile() throws {
        #expect(try parse("").isEmpty)
        #expect(try parse(BinanceKlineCSV.header + "\n").isEmpty)
    }

    @Test func writeThenParseIsIdentical() throws {
        let series = SyntheticMarket(seed: 9).generate(count: 5_000, symbol: btcusdt, interval: .fifteenMinutes,
                                                       startOpenTime: 1_704_067_200_000)
        let text = BinanceKlineCSV.write(series)
        let first = String(decoding: text.prefix { $0 != 10 }, as: UTF8.self)
        let fields = first.split(separator: ",")
        #expect(fields.count == 12)
        #expect(fields[0] == "1704067200000")
        #expect(fields[6] == "1704068099999")
        #expect(fields[1].split(separator: ".").last?.count == 2)
        #expect(fields[8...] == ["0", "0", "0", "0"])
        let back = try BinanceKlineCSV.parse(text, name: "synthetic.csv", symbol: btcusdt, interval: .fifteenMinutes)
        #expect(back.priceDecimals == series.priceDecimals)
        #expect(back.count == series.count)
        #expect(back.openTime == series.openTime)
        #expect(back.open == series.open)
        #expect(back.high == series.high)
        #expect(back.low == series.low)
        #expect(back.close == series.close)
        #expect(back.volume == series.volume)
        #expect(series.indices.allSatisfy { back.exactPrice(back.close[$0]) == series.exactPrice(series.close[$0]) })

        // Eight decimals and large prices survive too.
        var fine = BarSeries(symbol: btcusdt, interval: .oneMinute, priceDecimals: 8)
        fine.append(Bar(openTime: 60_000, open: 0.00000123, high: 1_000_000.12345678, low: 0.00000001, close: 1.5, volume: 0.00000001))
        let fineBack = try BinanceKlineCSV.parse(BinanceKlineCSV.write(fine), name: "fine.csv", symbol: btcusdt, interval: .oneMinute)
        #expect(fineBack[0] == fine[0])
        #expect(fineBack.exactPrice(fineBack.high[0]) == (try Price(parsing: "1000000.12345678")))
    }
}
