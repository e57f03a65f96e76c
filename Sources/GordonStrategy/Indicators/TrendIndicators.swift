/// True range (Wilder, 1978): `max(high − low, |high − previous close|, |low − previous
/// close|)`; the first bar's is `high − low`.
@inline(__always)
func trueRange(_ bar: Bar, previousClose: Double?) -> Double {
    guard let previousClose else { return bar.high - bar.low }
    return max(bar.high - bar.low, abs(bar.high - previousClose), abs(bar.low - previousClose))
}

/// Average true range (Wilder, 1978): the first value is the mean of the first `period`
/// true ranges, then `atr = (atr × (n − 1) + tr) / n`. Warm-up: first value at bar index
/// `period − 1`.
public struct ATR: Sendable {
    public let period: Int
    private var previousClose: Double?
    private var seed = 0.0
    private var seen = 0
    public private(set) var value: Double?

    public init(period: Int = 14) {
        precondition(period >= 1, "ATR period must be at least 1")
        self.period = period
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ bar: Bar) -> Double? {
        let range = trueRange(bar, previousClose: previousClose)
        previousClose = bar.close
        let n = Double(period)
        if let current = value {
            value = (current * (n - 1) + range) / n
        } else {
            seen += 1
            seed += range
            if seen == period { value = seed / n }
        }
        return value
    }

    public static func batch(_ bars: [Bar], period: Int = 14) -> [Double?] {
        var result = [Double?](repeating: nil, count: bars.count)
        guard bars.count >= period else { return result }
        let ranges = bars.indices.map { trueRange(bars[$0], previousClose: $0 > 0 ? bars[$0 - 1].close : nil) }
        var current = ranges[0..<period].reduce(0, +) / Double(period)
        result[period - 1] = current
        for index in period..<bars.count {
            current = current + (ranges[index] - current) / Double(period)
            result[index] = current
        }
        return result
    }
}

/// Directional movement (Wilder, 1978): from the second bar, +DM = up move if it exceeds
/// the down move and is positive, −DM likewise. TR, +DM and −DM are smoothed with Wilder's
/// sum (the first value is the sum of the first `period`, then `s − s / n + x`);
/// ±DI = 100 × smoothed ±DM / smoothed TR; DX = 100 × |+DI − −DI| / (+DI + −DI) (0 when
/// both are 0); ADX = the mean of the first `period` DX, then Wilder's smoothing. Warm-up:
/// first value at bar index `2 × period − 1`.
public struct ADXValue: Sendable, Hashable {
    public let adx: Double
    public let plusDI: Double
    public let minusDI: Double
}

public struct ADX: Sendable {
    public let period: Int
    private var previous: Bar?
    private var trSum = 0.0, plusSum = 0.0, minusSum = 0.0
    private var moves = 0
    private var dxSeed = 0.0
    private var dxCount = 0
    private var adx: Double?
    public private(set) var value: ADXValue?

    public init(period: Int = 14) {
        precondition(period >= 1, "ADX period must be at least 1")
        self.period = period
    }

    public var warmUp: Int { 2 * period }

    @discardableResult
    public mutating func update(_ bar: Bar) -> ADXValue? {
        defer { previous = bar }
        guard let previous else { return nil }
        let (range, plus, minus) = ADX.movement(bar, previous)
        let n = Double(period)
        moves += 1
        if moves <= period {
            trSum += range
            plusSum += plus
            minusSum += minus
            guard moves == period else { return nil }
        } else {
            trSum = trSum - trSum / n + range
            plusSum = plusSum - plusSum / n + plus
            minusSum = minusSum - minusSum / n + minus
        }
        let (plusDI, minusDI, dx) = ADX.indexes(trSum, plusSum, minusSum)
        if let current = adx {
            adx = (current * (n - 1) + dx) / n
        } else {
            dxCount += 1
            dxSeed += dx
            guard dxCount == period else { return nil }
            adx = dxSeed / n
        }
        value = ADXValue(adx: adx!, plusDI: plusDI, minusDI: minusDI)
        return value
    }

    static func movement(_ bar: Bar, _ previous: Bar) -> (Double, Double, Double) {
        let up = bar.high - previous.high, down = previous.low - bar.low
        return (trueRange(bar, previousClose: previous.close), up > down && up > 0 ? up : 0, down > up && down > 0 ? down : 0)
    }

    static func indexes(_ tr: Double, _ plus: Double, _ minus: Double) -> (Double, Double, Double) {
        let plusDI = tr > 0 ? 100 * plus / tr : 0, minusDI = tr > 0 ? 100 * minus / tr : 0
        let total = plusDI + minusDI
        return (plusDI, minusDI, total > 0 ? 100 * abs(plusDI - minusDI) / total : 0)
    }

    public static func batch(_ bars: [Bar], period: Int = 14) -> [ADXValue?] {
        var result = [ADXValue?](repeating: nil, count: bars.count)
        guard bars.count >= 2 * period else { return result }
        let movements = (1..<bars.count).map { movement(bars[$0], bars[$0 - 1]) }
        func wilderSums(_ pick: ((Double, Double, Double)) -> Double) -> [Double] {
            var sums = [movements[0..<period].reduce(0) { $0 + pick($1) }]
            for index in period..<movements.count { sums.append(sums.last! * (1 - 1 / Double(period)) + pick(movements[index])) }
            return sums
        }
        let tr = wilderSums { $0.0 }, plus = wilderSums { $0.1 }, minus = wilderSums { $0.2 }
        let values = tr.indices.map { indexes(tr[$0], plus[$0], minus[$0]) }
        var adx = values[0..<period].reduce(0) { $0 + $1.2 } / Double(period)
        // values[k] belongs to bar k + period.
        result[2 * period - 1] = ADXValue(adx: adx, plusDI: values[period - 1].0, minusDI: values[period - 1].1)
        for k in period..<values.count {
            adx = adx + (values[k].2 - adx) / Double(period)
            result[k + period] = ADXValue(adx: adx, plusDI: values[k].0, minusDI: values[k].1)
        }
        return result
    }
}

/// Supertrend (Olivier Seban): basic bands `(high + low) / 2 ± multiplier × ATR(period,
/// Wilder)`. The final upper band only falls (it takes the new basic band if that is lower
/// or the previous close was above the previous final band); the final lower band only
/// rises, symmetrically. The trend starts up, turns down when the close falls below the
/// final lower band and up when it rises above the final upper band; the line is the
/// lower band in an uptrend, the upper in a downtrend. Warm-up: first value at bar index
/// `period − 1`.
public struct SupertrendValue: Sendable, Hashable {
    public let line: Double
    public let isUptrend: Bool
}

public struct Supertrend: Sendable {
    private var atr: ATR
    public let multiplier: Double
    private var state: (upper: Double, lower: Double, close: Double, up: Bool)?
    public private(set) var value: SupertrendValue?

    public init(period: Int = 10, multiplier: Double = 3) {
        atr = ATR(period: period)
        self.multiplier = multiplier
    }

    public var warmUp: Int { atr.period }

    @discardableResult
    public mutating func update(_ bar: Bar) -> SupertrendValue? {
        guard let range = atr.update(bar) else { return nil }
        let next = Supertrend.step(state, bar: bar, atr: range, multiplier: multiplier)
        state = next
        value = SupertrendValue(line: next.up ? next.lower : next.upper, isUptrend: next.up)
        return value
    }

    static func step(_ previous: (upper: Double, lower: Double, close: Double, up: Bool)?, bar: Bar, atr: Double,
                     multiplier: Double) -> (upper: Double, lower: Double, close: Double, up: Bool) {
        let middle = (bar.high + bar.low) / 2
        let basicUpper = middle + multiplier * atr, basicLower = middle - multiplier * atr
        guard let previous else { return (basicUpper, basicLower, bar.close, true) }
        let upper = basicUpper < previous.upper || previous.close > previous.upper ? basicUpper : previous.upper
        let lower = basicLower > previous.lower || previous.close < previous.lower ? basicLower : previous.lower
        var up = previous.up
        if up, bar.close < lower { up = false } else if !up, bar.close > upper { up = true }
        return (upper, lower, bar.close, up)
    }

    public static func batch(_ bars: [Bar], period: Int = 10, multiplier: Double = 3) -> [SupertrendValue?] {
        let ranges = ATR.batch(bars, period: period)
        var state: (upper: Double, lower: Double, close: Double, up: Bool)?
        return bars.indices.map { index in
            guard let range = ranges[index] else { return nil }
            let next = step(state, bar: bars[index], atr: range, multiplier: multiplier)
            state = next
            return SupertrendValue(line: next.up ? next.lower : next.upper, isUptrend: next.up)
        }
    }
}
