/// On-balance volume (Joseph Granville, 1963): 0 on the first bar, then plus the bar's
/// volume when the close rose, minus it when the close fell, unchanged otherwise. No
/// warm-up.
public struct OBV: Sendable {
    private var previousClose: Double?
    public private(set) var value: Double?

    public init() {}

    public var warmUp: Int { 1 }

    @discardableResult
    public mutating func update(_ bar: Bar) -> Double? {
        defer { previousClose = bar.close }
        let current = value ?? 0
        guard let previousClose else {
            value = 0
            return value
        }
        value = current + (bar.close > previousClose ? bar.volume : (bar.close < previousClose ? -bar.volume : 0))
        return value
    }

    public static func batch(_ bars: [Bar]) -> [Double?] {
        var total = 0.0
        return bars.indices.map { index in
            if index > 0 {
                let change = bars[index].close - bars[index - 1].close
                total += change > 0 ? bars[index].volume : (change < 0 ? -bars[index].volume : 0)
            }
            return total
        }
    }
}

/// Rolling volume-weighted average price: Σ(typical price × volume) / Σ volume over the
/// last `period` bars, typical price = (high + low + close) / 3; the plain mean of typical
/// prices when the window traded nothing. (A crypto market never closes, so Gordon uses a
/// rolling window rather than a session anchor.) Warm-up: first value at bar index
/// `period − 1`.
public struct VWAP: Sendable {
    public let period: Int
    private var prices: RollingWindow
    private var volumes: RollingWindow
    private var weighted = 0.0, volume = 0.0, plain = 0.0
    /// Bars in the window that traded: an integer, so "nothing traded" is exact even when
    /// the running volume sum keeps a rounding residue.
    private var tradedBars = 0
    private var sinceResync = 0
    public private(set) var value: Double?

    public init(period: Int = 20) {
        self.period = period
        prices = RollingWindow(capacity: period)
        volumes = RollingWindow(capacity: period)
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ bar: Bar) -> Double? {
        let typical = bar.typicalPrice
        let oldPrice = prices.push(typical), oldVolume = volumes.push(bar.volume)
        if let oldPrice, let oldVolume {
            weighted -= oldPrice * oldVolume
            volume -= oldVolume
            plain -= oldPrice
            if oldVolume > 0 { tradedBars -= 1 }
        }
        if bar.volume > 0 { tradedBars += 1 }
        weighted += typical * bar.volume
        volume += bar.volume
        plain += typical
        sinceResync += 1
        if sinceResync >= period {
            sinceResync = 0
            let p = prices.values, v = volumes.values
            weighted = zip(p, v).reduce(0) { $0 + $1.0 * $1.1 }
            volume = v.reduce(0, +)
            plain = p.reduce(0, +)
        }
        guard prices.isFull else { return nil }
        value = tradedBars > 0 ? weighted / volume : plain / Double(period)
        return value
    }

    public static func batch(_ bars: [Bar], period: Int = 20) -> [Double?] {
        bars.indices.map { index in
            guard index >= period - 1 else { return nil }
            let window = bars[(index - period + 1)...index]
            let volume = window.reduce(0) { $0 + $1.volume }
            guard volume > 0 else { return window.reduce(0) { $0 + $1.typicalPrice } / Double(period) }
            return window.reduce(0) { $0 + $1.typicalPrice * $1.volume } / volume
        }
    }
}
