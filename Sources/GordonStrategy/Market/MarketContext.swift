public import GordonDomain

/// Values that are not klines but move markets, such as the Crypto Fear & Greed index
/// (0…100) and a perpetual's funding rate. Each is a time series of `(time, value)`; a
/// strategy sees the latest value published at or before the close of its current bar.
public struct AlternativeSeries: Sendable {
    public let times: [Int64]
    public let values: [Double]

    /// `points` need not be sorted; equal times keep the last value given.
    public init(_ points: [(time: Int64, value: Double)]) {
        let sorted = points.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        self.times = sorted.map(\.element.time)
        self.values = sorted.map(\.element.value)
    }

    public static let empty = AlternativeSeries([])
}

/// What a long-only spot position looks like to a strategy: approximations for decisions,
/// never amounts to trade with (the execution model owns those).
public struct PositionView: Sendable, Hashable {
    public var isOpen: Bool
    /// Average entry price including slippage, excluding fees.
    public var entryPrice: Double
    /// Index of the bar on which the entry filled.
    public var entryIndex: Int
    /// Index of the bar on which the last exit filled, or nil if there was none.
    public var lastExitIndex: Int?
    public var quantity: Double

    public init(isOpen: Bool, entryPrice: Double, entryIndex: Int, lastExitIndex: Int?, quantity: Double) {
        self.isOpen = isOpen
        self.entryPrice = entryPrice
        self.entryIndex = entryIndex
        self.lastExitIndex = lastExitIndex
        self.quantity = quantity
    }

    public static let flat = PositionView(isOpen: false, entryPrice: 0, entryIndex: 0, lastExitIndex: nil, quantity: 0)
}

/// Everything a strategy may know when its bar closes: the closed klines so far and the
/// latest alternative metrics, nothing later.
///
/// Look-ahead is impossible by construction: the storage is private, and every accessor
/// takes an age (`0` = the bar that just closed) and answers nil for anything not yet
/// closed. The backtester and the live bot both advance the context one closed kline at a
/// time, so a strategy runs identically in both.
public struct MarketContext: Sendable {
    private var series: BarSeries
    private var others: [SeriesKey: (series: BarSeries, cursor: Int)] = [:]
    private let fearGreedSeries: AlternativeSeries
    private let fundingSeries: AlternativeSeries
    /// Whether anything besides the primary series must advance with it.
    private let hasCompanions: Bool
    private var fearGreedCursor = -1
    private var fundingCursor = -1
    /// Index of the bar that just closed, in the primary series; -1 before the first.
    public private(set) var index: Int = -1
    public var position: PositionView = .flat

    public struct SeriesKey: Sendable, Hashable {
        public let symbol: Symbol
        public let interval: Interval
        public init(symbol: Symbol, interval: Interval) {
            self.symbol = symbol
            self.interval = interval
        }
    }

    public init(series: BarSeries, others: [BarSeries] = [], fearGreed: AlternativeSeries = .empty,
                funding: AlternativeSeries = .empty) {
        self.series = series
        for other in others {
            self.others[SeriesKey(symbol: other.symbol, interval: other.interval)] = (other, -1)
        }
        self.fearGreedSeries = fearGreed
        self.fundingSeries = funding
        self.hasCompanions = !others.isEmpty || !fearGreed.times.isEmpty || !funding.times.isEmpty
    }

    public var symbol: Symbol { series.symbol }
    public var interval: Interval { series.interval }
    /// Closed bars so far.
    public var barCount: Int { index + 1 }

    /// The bar that just closed.
    public var bar: Bar { series[index] }
    public var close: Double { series.close[index] }

    /// The bar `age` bars before the one that just closed (0 = that one), or nil if it does
    /// not exist yet or never will (a negative age asks for the future).
    public func bar(ago age: Int) -> Bar? {
        guard age >= 0, age <= index else { return nil }
        return series[index - age]
    }

    public func close(ago age: Int) -> Double? {
        guard age >= 0, age <= index else { return nil }
        return series.close[index - age]
    }

    /// The latest closed bar of another symbol or interval, closed no later than the
    /// current bar; nil if none has.
    public func latestBar(symbol: Symbol, interval: Interval) -> Bar? {
        if symbol == series.symbol, interval == series.interval { return index >= 0 ? bar : nil }
        guard let entry = others[SeriesKey(symbol: symbol, interval: interval)], entry.cursor >= 0 else { return nil }
        return entry.series[entry.cursor]
    }

    /// The latest Fear & Greed index value published by the current bar's close, if any.
    public var fearGreed: Double? { fearGreedCursor >= 0 ? fearGreedSeries.values[fearGreedCursor] : nil }
    /// The latest funding rate published by the current bar's close, if any.
    public var fundingRate: Double? { fundingCursor >= 0 ? fundingSeries.values[fundingCursor] : nil }

    /// Adds a bar that has just closed to the primary series, for a live bot whose series
    /// grows as klines arrive; `advance()` then closes it. Companion series do not grow.
    public mutating func append(_ bar: Bar) {
        series.append(bar)
    }

    /// Closes the next bar of the primary series. Returns false when there is none.
    public mutating func advance() -> Bool {
        guard index + 1 < series.count else { return false }
        index += 1
        guard hasCompanions else { return true }
        let closeTime = series.interval.closeTime(forOpenTime: series.openTime[index])
        if !others.isEmpty {
            for key in others.keys {
                let entry = others[key]!
                var cursor = entry.cursor
                while cursor + 1 < entry.series.count,
                      entry.series.interval.closeTime(forOpenTime: entry.series.openTime[cursor + 1]) <= closeTime {
                    cursor += 1
                }
                others[key]!.cursor = cursor
            }
        }
        Self.advance(&fearGreedCursor, in: fearGreedSeries, to: closeTime)
        Self.advance(&fundingCursor, in: fundingSeries, to: closeTime)
        return true
    }

    private static func advance(_ cursor: inout Int, in alternative: AlternativeSeries, to time: Int64) {
        while cursor + 1 < alternative.times.count, alternative.times[cursor + 1] <= time { cursor += 1 }
    }
}
