/// Simple moving average: the mean of the last `period` inputs. Warm-up: the first value
/// is at input index `period − 1`.
///
/// Computed as pandas' `rolling(period).mean()` (see `CompensatedMean`), so Gordon's SMA
/// signals match backtesting.py's bit for bit.
public struct SMA: Sendable {
    private var mean: CompensatedMean
    public private(set) var value: Double?

    public init(period: Int) { mean = CompensatedMean(period: period) }

    public var period: Int { mean.period }
    public var warmUp: Int { period }

    @discardableResult
    @inline(__always)
    public mutating func update(_ x: Double) -> Double? {
        value = mean.update(x)
        return value
    }

    /// Direct window sums, for checking the streaming form.
    public static func batch(_ xs: [Double], period: Int) -> [Double?] {
        xs.indices.map { index in
            guard index >= period - 1 else { return nil }
            return xs[(index - period + 1)...index].reduce(0, +) / Double(period)
        }
    }
}

/// Exponential moving average, `α = 2 / (period + 1)`, seeded with the SMA of the first
/// `period` inputs (the convention of TA-Lib and most charting packages). Warm-up: first
/// value at input index `period − 1`.
public struct EMA: Sendable {
    public let period: Int
    private let alpha: Double
    private var seed = 0.0
    private var seen = 0
    public private(set) var value: Double?

    public init(period: Int) {
        precondition(period >= 1, "EMA period must be at least 1")
        self.period = period
        self.alpha = 2 / (Double(period) + 1)
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        if let current = value {
            value = current + alpha * (x - current)
        } else {
            seen += 1
            seed += x
            if seen == period { value = seed / Double(period) }
        }
        return value
    }

    public static func batch(_ xs: [Double], period: Int) -> [Double?] {
        var result = [Double?](repeating: nil, count: xs.count)
        guard xs.count >= period else { return result }
        var current = xs[0..<period].reduce(0, +) / Double(period)
        result[period - 1] = current
        let alpha = 2 / (Double(period) + 1)
        for index in period..<xs.count {
            current = alpha * xs[index] + (1 - alpha) * current
            result[index] = current
        }
        return result
    }
}

/// Linearly weighted moving average: weights 1…n, the newest heaviest. Warm-up: first value
/// at input index `period − 1`. Kept O(1) with a running total and a running weighted sum,
/// both recomputed from the window every `period` updates against drift.
public struct WMA: Sendable {
    public let period: Int
    private var window: RollingWindow
    private var total = 0.0
    private var weighted = 0.0
    private var sinceResync = 0
    public private(set) var value: Double?

    public init(period: Int) {
        self.period = period
        self.window = RollingWindow(capacity: period)
    }

    public var warmUp: Int { period }

    @discardableResult
    public mutating func update(_ x: Double) -> Double? {
        let n = Double(period)
        if window.isFull {
            // Every weight drops by one (the oldest to zero), then x enters with weight n.
            let evicted = window.push(x)!
            weighted = weighted - total + n * x
            total = total - evicted + x
        } else {
            window.push(x)
            weighted += Double(window.count) * x
            total += x
        }
        sinceResync += 1
        if sinceResync >= period {
            sinceResync = 0
            total = 0
            weighted = 0
            for (offset, stored) in window.values.enumerated() {
                total += stored
                weighted += Double(offset + 1) * stored
            }
        }
        value = window.isFull ? weighted / (n * (n + 1) / 2) : nil
        return value
    }

    public static func batch(_ xs: [Double], period: Int) -> [Double?] {
        let denominator = Double(period * (period + 1)) / 2
        return xs.indices.map { index in
            guard index >= period - 1 else { return nil }
            var sum = 0.0
            for weight in 1...period { sum += Double(weight) * xs[index - period + weight] }
            return sum / denominator
        }
    }
}

/// MACD (Gerald Appel, 1979): `EMA(fast) − EMA(slow)` of the close, its signal line (an
/// EMA of the MACD) and their difference. Warm-up: first value at input index
/// `slow + signal − 2`.
public struct MACDValue: Sendable, Hashable {
    public let macd: Double
    public let signal: Double
    public let histogram: Double
}

public struct MACD: Sendable {
    private var fast: EMA
    private var slow: EMA
    private var signalLine: EMA
    public private(set) var value: MACDValue?

    public init(fast: Int = 12, slow: Int = 26, signal: Int = 9) {
        self.fast = EMA(period: fast)
        self.slow = EMA(period: slow)
        self.signalLine = EMA(period: signal)
    }

    public var warmUp: Int { max(fast.period, slow.period) + signalLine.period - 1 }

    @discardableResult
    public mutating func update(_ x: Double) -> MACDValue? {
        let fastValue = fast.update(x)
        guard let slowValue = slow.update(x), let fastValue else { return nil }
        let line = fastValue - slowValue
        guard let signal = signalLine.update(line) else { return nil }
        value = MACDValue(macd: line, signal: signal, histogram: line - signal)
        return value
    }

    public static func batch(_ xs: [Double], fast: Int = 12, slow: Int = 26, signal: Int = 9) -> [MACDValue?] {
        let fastLine = EMA.batch(xs, period: fast), slowLine = EMA.batch(xs, period: slow)
        let start = max(fast, slow) - 1
        guard xs.count > start else { return Array(repeating: nil, count: xs.count) }
        let lines = (start..<xs.count).map { fastLine[$0]! - slowLine[$0]! }
        let signals = EMA.batch(lines, period: signal)
        return xs.indices.map { index in
            guard index >= start, let signal = signals[index - start] else { return nil }
            let line = lines[index - start]
            return MACDValue(macd: line, signal: signal, histogram: line - signal)
        }
    }
}
