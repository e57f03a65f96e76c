/// Bollinger Bands (John Bollinger, 1980s): middle = SMA(period) of the close, upper and
/// lower = middle ± multiplier × the population standard deviation of the same window.
/// `bandwidth` = (upper − lower) / middle, `percentB` = (x − lower) / (upper − lower)
/// (0.5 when the bands touch). Warm-up: first value at input index `period − 1`.
public struct BollingerValue: Sendable, Hashable {
    public let middle: Double
    public let upper: Double
    public let lower: Double
    public let bandwidth: Double
    public let percentB: Double

    public init(middle: Double, upper: Double, lower: Double, bandwidth: Double, percentB: Double) {
        self.middle = middle
        self.upper = upper
        self.lower = lower
        self.bandwidth = bandwidth
        self.percentB = percentB
    }

    init(middle: Double, deviation: Double, multiplier: Double, x: Double) {
        self.middle = middle
        upper = middle + multiplier * deviation
        lower = middle - multiplier * deviation
        bandwidth = middle != 0 ? (upper - lower) / middle : 0
        percentB = upper > lower ? (x - lower) / (upper - lower) : 0.5
    }
}

public struct BollingerBands: Sendable {
    public let period: Int
    public let multiplier: Double
    private var moments: RollingMoments
    public private(set) var value: BollingerValue?

    public init(period: Int = 20, multiplier: Double = 2) {
        self.period = period
        self.multiplier = multiplier
        self.moments = RollingMoments(period: period)
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ x: Double) -> BollingerValue? {
        moments.push(x)
        guard moments.isFull else { return nil }
        let (mean, sigma) = moments.meanAndDeviation(sample: false)
        value = BollingerValue(middle: mean, deviation: sigma, multiplier: multiplier, x: x)
        return value
    }

    public static func batch(_ xs: [Double], period: Int = 20, multiplier: Double = 2) -> [BollingerValue?] {
        xs.indices.map { index in
            guard index >= period - 1 else { return nil }
            let (mean, sigma) = Statistics.meanAndDeviation(xs[(index - period + 1)...index], sample: false)
            return BollingerValue(middle: mean, deviation: sigma, multiplier: multiplier, x: xs[index])
        }
    }
}

/// Donchian channel (Richard Donchian): the highest high and lowest low of the last
/// `period` bars including the current one, and their midpoint. Warm-up: first value at
/// bar index `period − 1`.
public struct DonchianValue: Sendable, Hashable {
    public let upper: Double
    public let lower: Double
    public let middle: Double

    public init(upper: Double, lower: Double, middle: Double) {
        self.upper = upper
        self.lower = lower
        self.middle = middle
    }

    init(upper: Double, lower: Double) { self.init(upper: upper, lower: lower, middle: (upper + lower) / 2) }
}

public struct Donchian: Sendable {
    private var highest: RollingExtreme
    private var lowest: RollingExtreme
    public private(set) var value: DonchianValue?

    public init(period: Int = 20) {
        highest = RollingExtreme(period: period, maximum: true)
        lowest = RollingExtreme(period: period, maximum: false)
    }

    public var warmUp: Int { highest.period }

    @discardableResult
    public mutating func update(_ bar: Bar) -> DonchianValue? {
        highest.push(bar.high)
        lowest.push(bar.low)
        guard highest.isFull else { return nil }
        value = DonchianValue(upper: highest.value, lower: lowest.value)
        return value
    }

    public static func batch(_ bars: [Bar], period: Int = 20) -> [DonchianValue?] {
        bars.indices.map { index in
            guard index >= period - 1 else { return nil }
            let window = bars[(index - period + 1)...index]
            return DonchianValue(upper: window.map(\.high).max()!, lower: window.map(\.low).min()!)
        }
    }
}

/// Keltner channel in its ATR form (Chester Keltner, 1960; Linda Bradford Raschke's
/// revision): middle = EMA(emaPeriod) of the close, bands = middle ± multiplier ×
/// ATR(atrPeriod, Wilder). Warm-up: first value at bar index `max(emaPeriod, atrPeriod) − 1`.
public struct KeltnerValue: Sendable, Hashable {
    public let middle: Double
    public let upper: Double
    public let lower: Double
}

public struct Keltner: Sendable {
    private var ema: EMA
    private var atr: ATR
    public let multiplier: Double
    public private(set) var value: KeltnerValue?

    public init(emaPeriod: Int = 20, atrPeriod: Int = 10, multiplier: Double = 2) {
        ema = EMA(period: emaPeriod)
        atr = ATR(period: atrPeriod)
        self.multiplier = multiplier
    }

    public var warmUp: Int { max(ema.period, atr.period) }

    @discardableResult
    public mutating func update(_ bar: Bar) -> KeltnerValue? {
        let middle = ema.update(bar.close)
        guard let range = atr.update(bar), let middle else { return nil }
        value = KeltnerValue(middle: middle, upper: middle + multiplier * range, lower: middle - multiplier * range)
        return value
    }

    public static func batch(_ bars: [Bar], emaPeriod: Int = 20, atrPeriod: Int = 10, multiplier: Double = 2) -> [KeltnerValue?] {
        let middles = EMA.batch(bars.map(\.close), period: emaPeriod)
        let ranges = ATR.batch(bars, period: atrPeriod)
        return bars.indices.map { index in
            guard let middle = middles[index], let range = ranges[index] else { return nil }
            return KeltnerValue(middle: middle, upper: middle + multiplier * range, lower: middle - multiplier * range)
        }
    }
}
