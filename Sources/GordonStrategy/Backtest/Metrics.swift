/// Performance figures of a backtest, from its equity curve (one point per bar close) and
/// its trades. Returns are simple per-bar returns of equity; annualisation assumes markets
/// that never close (crypto: 365.25 days a year); the risk-free rate is zero.
public struct Metrics: Sendable, Hashable {
    public let bars: Int
    public let startEquity: Double
    public let endEquity: Double
    public let totalReturn: Double
    /// `(1 + total)^(barsPerYear / bars) − 1`.
    public let annualisedReturn: Double
    /// The largest peak-to-trough fall of equity, as a fraction of the peak.
    public let maxDrawdown: Double
    /// The longest time, in bars, from a peak until equity was back above it (or the end).
    public let maxDrawdownBars: Int
    /// Mean over standard deviation (sample) of per-bar returns, times √barsPerYear.
    public let sharpe: Double
    /// Mean per-bar return over the downside deviation `√mean(min(r, 0)²)`, times √barsPerYear.
    public let sortino: Double
    /// Annualised return over max drawdown.
    public let calmar: Double
    public let tradeCount: Int
    /// Winning trades (profit > 0) over all trades.
    public let winRate: Double
    /// Gross profit over gross loss; infinite with no losing trade, 0 with no trade.
    public let profitFactor: Double
    /// Bars closed in a position over all bars.
    public let exposure: Double
    /// Mean of the trades' returns (profit over entry cost).
    public let averageTradeReturn: Double
    public let averageTradeProfit: Double

    public init(_ result: BacktestResult) {
        self.init(equity: result.equity, inPosition: result.inPosition,
                  tradeProfits: result.trades.map(\.profit.doubleApproximation),
                  tradeReturns: result.trades.map(\.returnFraction),
                  startEquity: result.initialCash.doubleApproximation, barsPerYear: result.barsPerYear)
    }

    public init(equity: [Double], inPosition: [Bool], tradeProfits: [Double], tradeReturns: [Double],
                startEquity: Double, barsPerYear: Double) {
        bars = equity.count
        self.startEquity = startEquity
        endEquity = equity.last ?? startEquity
        totalReturn = startEquity > 0 ? endEquity / startEquity - 1 : 0
        annualisedReturn = bars > 0 && totalReturn > -1 ? Metrics.power(1 + totalReturn, barsPerYear / Double(bars)) - 1 : -1

        var peak = startEquity, worst = 0.0
        var peakIndex = -1, longest = 0
        for (index, value) in equity.enumerated() {
            if value >= peak {
                longest = max(longest, index - peakIndex - 1)
                peak = value
                peakIndex = index
            } else if peak > 0 {
                worst = max(worst, (peak - value) / peak)
            }
        }
        longest = max(longest, equity.count - peakIndex - 1)
        maxDrawdown = worst
        maxDrawdownBars = longest

        var returns: [Double] = []
        returns.reserveCapacity(equity.count)
        var previous = startEquity
        for value in equity {
            returns.append(previous > 0 ? value / previous - 1 : 0)
            previous = value
        }
        let mean = returns.isEmpty ? 0 : returns.reduce(0, +) / Double(returns.count)
        let variance = returns.count > 1
            ? returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1) : 0
        let downside = returns.isEmpty ? 0 : (returns.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(returns.count)).squareRoot()
        let annualiser = barsPerYear.squareRoot()
        sharpe = variance > 0 ? mean / variance.squareRoot() * annualiser : 0
        sortino = downside > 0 ? mean / downside * annualiser : 0
        calmar = worst > 0 ? annualisedReturn / worst : 0

        tradeCount = tradeProfits.count
        let wins = tradeProfits.filter { $0 > 0 }
        let grossProfit = wins.reduce(0, +)
        let grossLoss = -tradeProfits.filter { $0 < 0 }.reduce(0, +)
        winRate = tradeCount > 0 ? Double(wins.count) / Double(tradeCount) : 0
        profitFactor = grossLoss > 0 ? grossProfit / grossLoss : (grossProfit > 0 ? .infinity : 0)
        exposure = inPosition.isEmpty ? 0 : Double(inPosition.filter { $0 }.count) / Double(inPosition.count)
        averageTradeReturn = tradeReturns.isEmpty ? 0 : tradeReturns.reduce(0, +) / Double(tradeReturns.count)
        averageTradeProfit = tradeCount > 0 ? tradeProfits.reduce(0, +) / Double(tradeCount) : 0
    }

    /// `base^exponent` for base > 0 without Foundation: exp(exponent · ln base).
    static func power(_ base: Double, _ exponent: Double) -> Double {
        MathFunctions.exp(exponent * MathFunctions.log(base))
    }

    /// Rows for a summary table: label and formatted value.
    public var rows: [(String, String)] {
        func percent(_ value: Double) -> String { Format.fixed(value * 100, 2) + "%" }
        return [
            ("bars", "\(bars)"),
            ("start equity", Format.fixed(startEquity, 2)),
            ("end equity", Format.fixed(endEquity, 2)),
            ("total return", percent(totalReturn)),
            ("annualised return", percent(annualisedReturn)),
            ("max drawdown", percent(maxDrawdown)),
            ("max drawdown duration (bars)", "\(maxDrawdownBars)"),
            ("sharpe", Format.fixed(sharpe, 3)),
            ("sortino", Format.fixed(sortino, 3)),
            ("calmar", Format.fixed(calmar, 3)),
            ("trades", "\(tradeCount)"),
            ("win rate", percent(winRate)),
            ("profit factor", profitFactor.isInfinite ? "inf" : Format.fixed(profitFactor, 3)),
            ("exposure", percent(exposure)),
            ("average trade return", percent(averageTradeReturn)),
            ("average trade profit", Format.fixed(averageTradeProfit, 2)),
        ]
    }
}

/// exp and ln from the standard library's floating-point support only (no libm import), so
/// the module stays free of Foundation and builds the same on glibc and musl.
enum MathFunctions {
    static func log(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return x == 0 ? -.infinity : (x.isInfinite ? .infinity : .nan) }
        // x = m · 2^e with m in [1, 2); ln x = e·ln 2 + ln m, ln m by atanh series on (m−1)/(m+1).
        let exponent = Double(x.exponent)
        let mantissa = x.significand
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var term = s, sum = 0.0
        var k = 1.0
        while k < 60 {
            sum += term / k
            term *= s2
            k += 2
        }
        return exponent * 0.693_147_180_559_945_3 + 2 * sum
    }

    static func exp(_ x: Double) -> Double {
        guard x.isFinite else { return x > 0 ? .infinity : (x.isNaN ? .nan : 0) }
        if x > 709 { return .infinity }
        if x < -745 { return 0 }
        // e^x = 2^k · e^r with r = x − k·ln 2 in [−ln2/2, ln2/2], e^r by its Taylor series.
        let k = (x / 0.693_147_180_559_945_3).rounded()
        let r = x - k * 0.693_147_180_559_945_3
        var term = 1.0, sum = 1.0
        for n in 1...25 {
            term *= r / Double(n)
            sum += term
        }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }
}

/// Number formatting without Foundation.
public enum Format {
    /// `value` with `places` decimals, rounded half away from zero (`fixed(2.345, 2)` = "2.35").
    public static func fixed(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return "\(value)" }
        let integer = UInt64(scaled)
        var digits = String(integer)
        if places > 0 {
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
        }
        return (value < 0 && integer != 0 ? "-" : "") + digits
    }
}
