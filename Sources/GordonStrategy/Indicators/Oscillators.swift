/// Relative Strength Index (J. Welles Wilder, *New Concepts in Technical Trading Systems*,
/// 1978). Changes between consecutive inputs; the first average gain and loss are the
/// simple means of the first `period` changes, then Wilder's smoothing
/// `avg = (avg × (n − 1) + x) / n`. `RSI = 100 − 100 / (1 + gain / loss)`: 100 when the
/// average loss is zero, 50 when both are. Warm-up: first value at input index `period`.
public struct RSI: Sendable {
    public let period: Int
    private var previous: Double?
    private var gain = 0.0, loss = 0.0
    private var changes = 0
    public private(set) var value: Double?

    public init(period: Int = 14) {
        precondition(period >= 1, "RSI period must be at least 1")
        self.period = period
    }

    public var warmUp: Int { period + 1 }

    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        defer { previous = x }
        guard let previous else { return nil }
        let change = x - previous
        let up = max(change, 0), down = max(-change, 0)
        let n = Double(period)
        changes += 1
        if changes <= period {
            gain += up
            loss += down
            guard changes == period else { return nil }
            gain /= n
            loss /= n
        } else {
            gain = (gain * (n - 1) + up) / n
            loss = (loss * (n - 1) + down) / n
        }
        value = RSI.index(gain: gain, loss: loss)
        return value
    }

    static func index(gain: Double, loss: Double) -> Double {
        if loss == 0 { return gain == 0 ? 50 : 100 }
        return 100 - 100 / (1 + gain / loss)
    }

    public static func batch(_ xs: [Double], period: Int = 14) -> [Double?] {
        var result = [Double?](repeating: nil, count: xs.count)
        guard xs.count > period else { return result }
        let n = Double(period)
        var gain = 0.0, loss = 0.0
        for index in 1...period {
            let change = xs[index] - xs[index - 1]
            gain += max(change, 0)
            loss += max(-change, 0)
        }
        gain /= n
        loss /= n
        result[period] = index(gain: gain, loss: loss)
        for index in stride(from: period + 1, to: xs.count, by: 1) {
            let change = xs[index] - xs[index - 1]
            gain = (gain * (n - 1) + max(change, 0)) / n
            loss = (loss * (n - 1) + max(-change, 0)) / n
            result[index] = Self.index(gain: gain, loss: loss)
        }
        return result
    }
}

/// Stochastic oscillator (George Lane, 1950s): raw %K = 100 × (close − lowest low) /
/// (highest high − lowest low) over `kPeriod` bars (50 when the range is zero); %K is its
/// SMA over `kSmoothing` bars ("slow" stochastic; 1 = fast), %D the SMA of %K over
/// `dPeriod`. Warm-up: first value at bar index `kPeriod + kSmoothing + dPeriod − 3`.
public struct StochasticValue: Sendable, Hashable {
    public let k: Double
    public let d: Double
}

public struct Stochastic: Sendable {
    private var highest: RollingExtreme
    private var lowest: RollingExtreme
    private var kLine: CompensatedMean
    private var dLine: CompensatedMean
    public private(set) var value: StochasticValue?

    public init(kPeriod: Int = 14, kSmoothing: Int = 3, dPeriod: Int = 3) {
        highest = RollingExtreme(period: kPeriod, maximum: true)
        lowest = RollingExtreme(period: kPeriod, maximum: false)
        kLine = CompensatedMean(period: kSmoothing)
        dLine = CompensatedMean(period: dPeriod)
    }

    public var warmUp: Int { highest.period + kLine.period + dLine.period - 2 }

    @discardableResult
    public mutating func update(_ bar: Bar) -> StochasticValue? {
        highest.push(bar.high)
        lowest.push(bar.low)
        guard highest.isFull else { return nil }
        let range = highest.value - lowest.value
        let raw = range > 0 ? 100 * (bar.close - lowest.value) / range : 50
        guard let k = kLine.update(raw), let d = dLine.update(k) else { return nil }
        value = StochasticValue(k: k, d: d)
        return value
    }

    public static func batch(_ bars: [Bar], kPeriod: Int = 14, kSmoothing: Int = 3, dPeriod: Int = 3) -> [StochasticValue?] {
        let raw: [Double?] = bars.indices.map { index in
            guard index >= kPeriod - 1 else { return nil }
            let window = bars[(index - kPeriod + 1)...index]
            let high = window.map(\.high).max()!, low = window.map(\.low).min()!
            return high > low ? 100 * (bars[index].close - low) / (high - low) : 50
        }
        let k = smoothed(raw, kSmoothing)
        let d = smoothed(k, dPeriod)
        return bars.indices.map { index in
            guard let kValue = k[index], let dValue = d[index] else { return nil }
            return StochasticValue(k: kValue, d: dValue)
        }
    }

    /// The mean of the last `period` non-nil values, once there are that many in a row.
    static func smoothed(_ xs: [Double?], _ period: Int) -> [Double?] {
        xs.indices.map { index in
            guard index >= period - 1 else { return nil }
            let window = xs[(index - period + 1)...index]
            guard window.allSatisfy({ $0 != nil }) else { return nil }
            return window.reduce(0) { $0 + $1! } / Double(period)
        }
    }
}

/// Rolling z-score: `(x − mean) / σ` over the last `period` inputs including x, σ the
/// population standard deviation; 0 when σ is 0. Warm-up: first value at index `period − 1`.
public struct RollingZScore: Sendable {
    public let period: Int
    private var moments: RollingMoments
    public private(set) var value: Double?

    public init(period: Int = 20) {
        self.period = period
        self.moments = RollingMoments(period: period)
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        moments.push(x)
        guard moments.isFull else { return nil }
        let (mean, sigma) = moments.meanAndDeviation(sample: false)
        value = sigma > 0 ? (x - mean) / sigma : 0
        return value
    }

    public static func batch(_ xs: [Double], period: Int = 20) -> [Double?] {
        xs.indices.map { index in
            guard index >= period - 1 else { return nil }
            let (mean, sigma) = Statistics.meanAndDeviation(xs[(index - period + 1)...index], sample: false)
            return sigma > 0 ? (xs[index] - mean) / sigma : 0
        }
    }
}

/// Rolling volatility: the sample standard deviation (n − 1) of the last `period` log
/// returns `ln(x_t / x_{t−1})`, per bar, not annualised. Warm-up: first value at input
/// index `period`. With `period` 1 there is no sample deviation and the value is 0.
public struct RollingVolatility: Sendable {
    public let period: Int
    private var moments: RollingMoments
    private var previous: Double?
    public private(set) var value: Double?

    public init(period: Int = 20) {
        precondition(period >= 1, "RollingVolatility period must be at least 1")
        self.period = period
        self.moments = RollingMoments(period: period)
    }

    public var warmUp: Int { period + 1 }

    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        defer { previous = x }
        guard let previous, previous > 0, x > 0 else { return nil }
        moments.push(MathFunctions.log(x / previous))
        guard moments.isFull else { return nil }
        value = moments.meanAndDeviation(sample: true).deviation
        return value
    }

    public static func batch(_ xs: [Double], period: Int = 20) -> [Double?] {
        xs.indices.map { index in
            guard index >= period else { return nil }
            let returns = ((index - period + 1)...index).map { MathFunctions.log(xs[$0] / xs[$0 - 1]) }
            return Statistics.meanAndDeviation(returns[...], sample: true).1
        }
    }
}

enum Statistics {
    static func meanAndDeviation(_ values: ArraySlice<Double>, sample: Bool) -> (Double, Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let divisor = sample ? n - 1 : n
        return (mean, divisor > 0 ? (squares / divisor).squareRoot() : 0)
    }
}
