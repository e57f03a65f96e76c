import GordonDomain
import GordonKernel
import GordonStrategy
import Testing

@Suite("Synthetic market")
struct SyntheticMarketTests {
    let start: Int64 = 1_704_067_200_000

    @Test func sameSeedSameSeriesDifferentSeedsDiffer() {
        let a = SyntheticMarket(seed: 42).generate(count: 100_000, symbol: btcusdt, interval: .oneMinute, startOpenTime: start)
        let b = SyntheticMarket(seed: 42).generate(count: 100_000, symbol: btcusdt, interval: .oneMinute, startOpenTime: start)
        let c = SyntheticMarket(seed: 43).generate(count: 100_000, symbol: btcusdt, interval: .oneMinute, startOpenTime: start)
        #expect(a.count == 100_000)
        #expect(a.openTime == b.openTime && a.open == b.open && a.high == b.high && a.low == b.low)
        #expect(a.close == b.close && a.volume == b.volume)
        #expect(a.close != c.close)
        #expect(a.openTime == c.openTime)
        // A prefix is the start of a longer run.
        let short = SyntheticMarket(seed: 42).generate(count: 1_000, symbol: btcusdt, interval: .oneMinute, startOpenTime: start)
        #expect(short.close == Array(a.close.prefix(1_000)))
    }

    @Test func invariantsOver100kBars() {
        for (seed, decimals) in [(UInt64(1), 2), (7, 0), (99, 5)] {
            let market = SyntheticMarket(seed: seed, startPrice: 100, priceDecimals: decimals)
            let series = market.generate(count: 100_000, symbol: btcusdt, interval: .fiveMinutes, startOpenTime: start)
            #expect(series.priceDecimals == decimals)
            #expect(series.gaps().isEmpty)
            let tick = 1 / BarSeries.powersOfTenForTests(decimals)
            let scale = BarSeries.powersOfTenForTests(decimals)
            var failures = 0
            for index in series.indices {
                let open = series.open[index], high = series.high[index], low = series.low[index], close = series.close[index]
                var ok = low <= min(open, close) && high >= max(open, close) && low >= tick
                ok = ok && series.volume[index] > 0 && (series.volume[index] * 1000).rounded() / 1000 == series.volume[index]
                ok = ok && [open, high, low, close].allSatisfy { ($0 * scale).rounded() / scale == $0 }
                ok = ok && series.openTime[index] == start + Int64(index) * 300_000
                if index > 0 { ok = ok && open == series.close[index - 1] }
                if !ok { failures += 1 }
            }
            #expect(failures == 0, "seed \(seed)")
        }
    }

    @Test func everyRegimeOccursOverAMillionBars() {
        let market = SyntheticMarket(seed: 2024)
        let (series, regimes) = market.generateWithRegimes(count: 1_000_000, symbol: btcusdt, interval: .oneMinute,
                                                           startOpenTime: start)
        #expect(series.count == 1_000_000)
        #expect(Set(regimes) == Set(SyntheticMarket.Regime.allCases))
        // Crashes really fall 20-40% (within rounding and the last bar's wick), and a recovery follows each.
        var crashes = 0
        var index = 0
        while index < regimes.count {
            guard regimes[index] == .crash else { index += 1; continue }
            var end = index
            while end + 1 < regimes.count, regimes[end + 1] == .crash { end += 1 }
            if end + 1 < regimes.count {
                let fall = 1 - series.close[end] / series.open[index]
                #expect(fall > 0.19 && fall < 0.41, "crash at \(index): \(fall)")
                #expect((100...400).contains(end - index + 1))
                #expect(regimes[end + 1] == .recovery)
                crashes += 1
            }
            index = end + 1
        }
        #expect(crashes >= 5)
        // The walk stays in a sane band around its start.
        #expect(series.close.min()! > 1 && series.close.max()! < 10_000)
    }
}

extension BarSeries {
    static func powersOfTenForTests(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}
