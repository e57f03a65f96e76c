public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// The simulator's price history: one kline series per symbol (replayed from Binance kline
/// files or generated from a seed), published one kline at a time.
///
/// Only published klines exist for the outside world: REST `/klines` serves them and the
/// streams announce each as it is published. Kline times are the series' own, so a replay of
/// 2024 data looks like Binance's REST answer for 2024; the server clock stays the wall clock.
public struct SimMarketFeed: Sendable {
    public let interval: Interval
    private var series: [Symbol: [Kline]] = [:]
    private var published: [Symbol: Int] = [:]
    /// Each series' price places (its tick), which a shock keeps.
    private var priceDecimals: [Symbol: Int] = [:]

    /// `preloaded` klines of each series count as already published (history for warm-up).
    public init(series bars: [BarSeries], preloaded: Int = 0) throws(GordonError) {
        guard let first = bars.first else {
            throw GordonError(.invalidBacktestConfig, "the simulator needs at least one kline series")
        }
        interval = first.interval
        for one in bars {
            guard one.interval == interval else {
                throw GordonError(.invalidBacktestConfig, "every simulated series must share one interval",
                                  context: ["symbol": one.symbol.rawValue, "interval": one.interval.rawValue])
            }
            var klines: [Kline] = []
            klines.reserveCapacity(one.count)
            for index in one.indices {
                klines.append(try SimMarketFeed.kline(one[index], symbol: one.symbol, interval: interval, decimals: one.priceDecimals))
            }
            series[one.symbol] = klines
            published[one.symbol] = min(preloaded, klines.count)
            priceDecimals[one.symbol] = one.priceDecimals
        }
    }

    public var symbols: [Symbol] { series.keys.sorted() }

    /// Publishes the next kline of every series that has one left; returns them.
    public mutating func advance() -> [Kline] {
        var next: [Kline] = []
        for symbol in symbols {
            guard let klines = series[symbol], let count = published[symbol], count < klines.count else { continue }
            next.append(klines[count])
            published[symbol] = count + 1
        }
        return next
    }

    /// A market shock: every kline not yet published has its prices multiplied by `factor`
    /// (at the series' own decimal places), so the market goes on from the new level: a crash
    /// or a recovery at a moment a test or a benchmark chooses.
    public mutating func scaleUnpublished(by factor: ExactDecimal) throws(GordonError) {
        guard factor.isPositive else { throw GordonError(.invalidBacktestConfig, "a market shock multiplies prices by a positive factor") }
        for symbol in symbols {
            guard var klines = series[symbol], let count = published[symbol], let places = priceDecimals[symbol] else { continue }
            for index in count..<klines.count {
                let old = klines[index]
                func scaled(_ price: Price) throws(GordonError) -> Price {
                    try Price(try price.value.multiplied(by: factor).rounded(scale: places, rule: .halfEven))
                }
                let close = try scaled(old.close)
                let quoteVolume = try old.volume.value.multiplied(by: close.value).rounded(scale: 8, rule: .halfEven)
                let takerQuote = try old.takerBuyBaseVolume.multiplied(by: close.value).rounded(scale: 8, rule: .down)
                klines[index] = try Kline(
                    symbol: symbol, interval: old.interval, openTime: old.openTime, closeTime: old.closeTime,
                    open: try scaled(old.open), high: try scaled(old.high), low: try scaled(old.low), close: close,
                    volume: old.volume, quoteVolume: quoteVolume, trades: old.trades, takerBuyBaseVolume: old.takerBuyBaseVolume,
                    takerBuyQuoteVolume: min(takerQuote, quoteVolume), isClosed: true)
            }
            series[symbol] = klines
        }
    }

    public func remaining(_ symbol: Symbol) -> Int {
        (series[symbol]?.count ?? 0) - (published[symbol] ?? 0)
    }

    public func lastPublished(_ symbol: Symbol) -> Kline? {
        guard let count = published[symbol], count > 0 else { return nil }
        return series[symbol]?[count - 1]
    }

    /// Published klines in `[startTime, endTime]` by open time, oldest first, at most
    /// `limit`; without `startTime` the most recent `limit`, as Binance answers.
    public func klines(symbol: Symbol, startTime: Int64?, endTime: Int64?, limit: Int) -> [Kline]? {
        guard let all = series[symbol], let count = published[symbol] else { return nil }
        let visible = all[..<count]
        let lower = startTime.map { start in firstIndex(in: visible) { $0.openTime.milliseconds >= start } } ?? visible.startIndex
        let upper = endTime.map { end in firstIndex(in: visible) { $0.openTime.milliseconds > end } } ?? visible.endIndex
        guard lower < upper else { return [] }
        if startTime == nil {
            return Array(visible[max(lower, upper - limit)..<upper])
        }
        return Array(visible[lower..<min(upper, lower + limit)])
    }

    private func firstIndex(in klines: ArraySlice<Kline>, where predicate: (Kline) -> Bool) -> Int {
        var low = klines.startIndex
        var high = klines.endIndex
        while low < high {
            let mid = (low + high) / 2
            if predicate(klines[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The closed kline a bar of a series becomes, prices at `decimals` places.
    public static func kline(_ bar: Bar, symbol: Symbol, interval: Interval, decimals: Int) throws(GordonError) -> Kline {
        func exact(_ value: Double, _ places: Int) -> ExactDecimal {
            var scaled = value
            for _ in 0..<places { scaled *= 10 }
            return ExactDecimal(significand: Int128(scaled.rounded()), scale: places)
        }
        let volume = exact(bar.volume, 5)
        let close = exact(bar.close, decimals)
        let quoteVolume = try volume.multiplied(by: close).rounded(scale: 8, rule: .halfEven)
        let takerBase = try volume.divided(by: ExactDecimal(2), scale: 5, rounding: .down)
        let takerQuote = try takerBase.multiplied(by: close).rounded(scale: 8, rule: .down)
        return try Kline(
            symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: bar.openTime),
            closeTime: Timestamp(milliseconds: interval.closeTime(forOpenTime: bar.openTime)),
            open: Price(exact(bar.open, decimals)), high: Price(exact(bar.high, decimals)), low: Price(exact(bar.low, decimals)),
            close: Price(close), volume: Quantity(volume), quoteVolume: quoteVolume,
            trades: max(1, Int(bar.volume.rounded()) % 1000 + 1), takerBuyBaseVolume: takerBase, takerBuyQuoteVolume: min(takerQuote, quoteVolume),
            isClosed: true)
    }
}
