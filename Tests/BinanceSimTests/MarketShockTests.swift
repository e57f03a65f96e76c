import GordonDomain
import GordonKernel
import GordonStrategy
import Testing
@testable import BinanceSim

@Suite("SimMarketFeed: a market shock moves every kline not yet published, never one already out")
struct MarketShockTests {
    @Test func aCrashToATenthScalesTheRestAtTheSeriesPlaces() throws {
        let series = SyntheticMarket(seed: 11).generate(count: 5, symbol: btcusdt, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        var plain = try SimMarketFeed(series: [series], preloaded: 2)
        var shocked = plain
        try shocked.scaleUnpublished(by: d("0.1"))
        #expect(shocked.lastPublished(btcusdt) == plain.lastPublished(btcusdt), "what is out stays as it was")
        for _ in 0..<3 {
            let before = try #require(plain.advance().first)
            let after = try #require(shocked.advance().first)
            #expect(after.openTime == before.openTime && after.volume == before.volume)
            for (old, new) in [(before.open, after.open), (before.high, after.high), (before.low, after.low), (before.close, after.close)] {
                #expect(new.value == (try old.value.multiplied(by: d("0.1")).rounded(scale: series.priceDecimals, rule: .halfEven)))
            }
        }
        #expect(throws: GordonError.self) { try shocked.scaleUnpublished(by: .zero) }
    }
}
