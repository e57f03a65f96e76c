public import GordonDomain

/// One closed kline as the strategy math sees it: binary floating point, because
/// indicators are statistics, not money. The exact price of a fill is recovered from the
/// series' decimal places (`BarSeries.exactPrice`), never from arithmetic on these values.
public struct Bar: Sendable, Hashable {
    /// Binance's open time, milliseconds since the epoch.
    public var openTime: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(openTime: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    /// The typical price `(high + low + close) / 3` that VWAP and Keltner use.
    public var typicalPrice: Double { (high + low + close) / 3 }
}

/// The closed klines of one symbol and interval, column by column so a million bars cost
/// 48 MB and a pass over one column stays in cache.
///
/// Prices come from decimal text with at most `priceDecimals` fractional digits (Binance
/// quotes at most 8), so `exactPrice(_:)` gives back the decimal the file said: every such
/// number below 2^53 / 10^8 survives the round trip through `Double` exactly.
public struct BarSeries: Sendable {
    public let symbol: Symbol
    public let interval: Interval
    /// Fractional digits of the source prices, 0...8.
    public let priceDecimals: Int
    public private(set) var openTime: [Int64] = []
    public private(set) var open: [Double] = []
    public private(set) var high: [Double] = []
    public private(set) var low: [Double] = []
    public private(set) var close: [Double] = []
    public private(set) var volume: [Double] = []

    public init(symbol: Symbol, interval: Interval, priceDecimals: Int) {
        precondition((0...8).contains(priceDecimals), "priceDecimals must be 0...8")
        self.symbol = symbol
        self.interval = interval
        self.priceDecimals = priceDecimals
    }

    public init(symbol: Symbol, interval: Interval, priceDecimals: Int, bars: some Sequence<Bar>) {
        self.init(symbol: symbol, interval: interval, priceDecimals: priceDecimals)
        for bar in bars { append(bar) }
    }

    public var count: Int { openTime.count }
    public var isEmpty: Bool { openTime.isEmpty }
    public var indices: Range<Int> { 0..<count }

    public mutating func reserveCapacity(_ capacity: Int) {
        openTime.reserveCapacity(capacity)
        open.reserveCapacity(capacity)
        high.reserveCapacity(capacity)
        low.reserveCapacity(capacity)
        close.reserveCapacity(capacity)
        volume.reserveCapacity(capacity)
    }

    public mutating func append(_ bar: Bar) {
        openTime.append(bar.openTime)
        open.append(bar.open)
        high.append(bar.high)
        low.append(bar.low)
        close.append(bar.close)
        volume.append(bar.volume)
    }

    public subscript(index: Int) -> Bar {
        Bar(openTime: openTime[index], open: open[index], high: high[index], low: low[index],
            close: close[index], volume: volume[index])
    }

    /// The bars whose open time lies in `from..<to` (milliseconds), as a new series.
    public func slice(from: Int64? = nil, to: Int64? = nil) -> BarSeries {
        let lower = from.map { bound in openTime.partitioningIndex { $0 >= bound } } ?? 0
        let upper = to.map { bound in openTime.partitioningIndex { $0 >= bound } } ?? count
        return slice(lower..<max(lower, upper))
    }

    public func slice(_ range: Range<Int>) -> BarSeries {
        var result = BarSeries(symbol: symbol, interval: interval, priceDecimals: priceDecimals)
        result.openTime = Array(openTime[range])
        result.open = Array(open[range])
        result.high = Array(high[range])
        result.low = Array(low[range])
        result.close = Array(close[range])
        result.volume = Array(volume[range])
        return result
    }

    /// The decimal a source price was written as (see the type's note on exactness).
    public func exactPrice(_ value: Double) -> Price {
        BarSeries.exactPrice(value, decimals: priceDecimals)
    }

    public static func exactPrice(_ value: Double, decimals: Int) -> Price {
        let scaled = (value * powersOfTen[decimals]).rounded()
        // A price in a series is non-negative and representable, so this cannot fail.
        return try! Price(ExactDecimal(significand: Int128(scaled), scale: decimals))
    }

    /// Closed klines missing between consecutive bars: `(index of the bar after the gap,
    /// number of klines missing)`.
    public func gaps() -> [(index: Int, missing: Int)] {
        var found: [(index: Int, missing: Int)] = []
        guard count > 1 else { return found }
        for index in 1..<count {
            let expected = interval.nextOpenTime(after: openTime[index - 1])
            guard openTime[index] != expected else { continue }
            found.append((index, missingKlines(from: expected, before: openTime[index])))
        }
        return found
    }

    private func missingKlines(from expected: Int64, before actual: Int64) -> Int {
        guard actual > expected else { return 0 }  // out of order or duplicate: reported as a gap of 0
        if let length = interval.milliseconds { return Int((actual - expected + length - 1) / length) }
        var missing = 0
        var next = expected
        while next < actual {
            missing += 1
            next = interval.nextOpenTime(after: next)
        }
        return missing
    }

    static let powersOfTen: [Double] = (0...8).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate that is false
    /// then true along the array (binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
