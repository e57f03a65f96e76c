import GordonDomain
import GordonKernel
import GordonStrategy
import Testing
@testable import GordonKlineFiles

@Suite("Kline file loader")
struct KlineFileLoaderTests {
    let series = SyntheticMarket(seed: 21).generate(count: 300, symbol: btcusdt, interval: .oneMinute,
                                                    startOpenTime: 1_704_067_200_000)

    func csv(_ range: Range<Int>) -> [UInt8] { BinanceKlineCSV.write(series.slice(range)) }

    @Test func concatenatesOutOfOrderAndDropsTheBoundaryDuplicate() throws {
        let directory = try TemporaryDirectory()
        // The later file is given first; it repeats the earlier file's last row.
        let later = try directory.write("BTCUSDT-1m-2024-01-02.csv", csv(99..<300))
        let earlier = try directory.write("BTCUSDT-1m-2024-01-01.csv",
                                          Array((BinanceKlineCSV.header + "\r\n").utf8) + csv(0..<100))
        let loaded = try KlineFileLoader.load(paths: [later, earlier], symbol: btcusdt, interval: .oneMinute)
        #expect(loaded.count == 300)
        #expect(loaded.openTime == series.openTime)
        #expect(loaded.close == series.close)
        #expect(loaded.priceDecimals == 2)
        #expect(loaded.gaps().isEmpty)
    }

    @Test func keepsGapsForTheCaller() throws {
        let directory = try TemporaryDirectory()
        let a = try directory.write("a.csv", csv(0..<100))
        let b = try directory.write("b.csv", csv(150..<300))
        let loaded = try KlineFileLoader.load(paths: [b, a], symbol: btcusdt, interval: .oneMinute)
        #expect(loaded.count == 250)
        #expect(loaded.gaps().count == 1)
        #expect(loaded.gaps().first?.index == 100)
        #expect(loaded.gaps().first?.missing == 50)
    }

    @Test func overlapMustAgree() throws {
        let directory = try TemporaryDirectory()
        let month = try directory.write("month.csv", csv(0..<300))
        let day = try directory.write("day.csv", csv(100..<200))
        let loaded = try KlineFileLoader.load(paths: [day, month], symbol: btcusdt, interval: .oneMinute)
        #expect(loaded.count == 300)

        var text = String(decoding: csv(150..<160), as: UTF8.self)
        let firstComma = text.firstIndex(of: ",")!
        let secondComma = text[text.index(after: firstComma)...].firstIndex(of: ",")!
        text.replaceSubrange(text.index(after: firstComma)..<secondComma, with: "\(series.high[150])")
        let conflicting = try directory.write("conflict.csv", text)
        let error = caught { () throws(GordonError) in
            try KlineFileLoader.load(paths: [month, conflicting], symbol: btcusdt, interval: .oneMinute)
        }
        #expect(error?.code == .invalidMarketData)
        #expect(error?.message.contains("conflict.csv") == true)
        #expect(error?.message.contains("differs") == true)
    }

    @Test func readsZipArchives() throws {
        let directory = try TemporaryDirectory()
        let zip = try directory.write("BTCUSDT-1m-2024-01.zip", base64(InflateFixtures.zip))
        // The fixture's CSV is not kline data: the error names the archive and entry.
        let error = caught { () throws(GordonError) in try KlineFileLoader.load(paths: [zip], symbol: btcusdt, interval: .oneMinute) }
        #expect(error?.message.hasPrefix("BTCUSDT-1m-2024-01.zip:BTCUSDT-1m-2024-01.csv line 1:") == true)
    }

    @Test func zipAndCSVTogether() throws {
        let directory = try TemporaryDirectory()
        let zip = try directory.write("BTCUSDT-1m-2024-01-01.zip", base64(InflateFixtures.klineZip))
        // Repeats the zip's last kline (written differently) and adds one more.
        let next = try directory.write("BTCUSDT-1m-2024-01-01-tail.csv",
                                       "1704070140000,100.49,100.54,100.46,100.5,50.5,1704070199999,0,1,0,0,0\n"
                                       + "1704070200000,100.50,100.55,100.47,100.51,51.5,1704070259999,0,1,0,0,0\n")
        let loaded = try KlineFileLoader.load(paths: [next, zip], symbol: btcusdt, interval: .oneMinute)
        #expect(loaded.count == 51)
        #expect(loaded.priceDecimals == 2)
        #expect(loaded[0] == Bar(openTime: 1_704_067_200_000, open: 100, high: 100.05, low: 99.97, close: 100.01, volume: 1.5))
        #expect(loaded[49] == Bar(openTime: 1_704_070_140_000, open: 100.49, high: 100.54, low: 100.46, close: 100.5, volume: 50.5))
        #expect(loaded.close.last == 100.51)
        #expect(loaded.gaps().isEmpty)
    }

    @Test func missingFileIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/nope.csv"
        let error = caught { () throws(GordonError) in try KlineFileLoader.load(paths: [path], symbol: btcusdt, interval: .oneMinute) }
        #expect(error?.code == .marketDataUnreadable)
        #expect(error?.context["path"] == path)
        #expect(error?.message.contains(path) == true)
        let folder = caught { () throws(GordonError) in
            try KlineFileLoader.load(paths: [directory.path], symbol: btcusdt, interval: .oneMinute)
        }
        #expect(folder?.code == .marketDataUnreadable)
    }
}
