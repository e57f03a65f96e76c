public import GordonKernel

/// Wilder's RSI as a mean-reversion signal: enter when RSI(period) is below `oversold`,
/// exit when it rises above `overbought`. Defaults 14 / 30 / 70 (Wilder, 1978).
public struct RSIMeanReversion: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "rsi_mean_reversion", summary: "RSI below oversold: enter; above overbought: exit",
        parameters: [ParameterSpec("period", default: 14, range: 2...1000, integer: true, "RSI period (Wilder)"),
                     ParameterSpec("oversold", default: 30, range: 0...100, "entry level"),
                     ParameterSpec("overbought", default: 70, range: 0...100, "exit level")]
    ) { parameters throws(GordonError) in try RSIMeanReversion(parameters) }

    private var rsi: RSI
    private let oversold: Double, overbought: Double

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        oversold = parameters.double("oversold")
        overbought = parameters.double("overbought")
        try parameters.require(oversold < overbought, "oversold must be below overbought")
        rsi = RSI(period: parameters.int("period"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { rsi.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = rsi.update(context.close) else { return .hold }
        if value < oversold { return .enterLong(reason: "RSI below \(oversold)") }
        if value > overbought { return .exit(reason: "RSI above \(overbought)") }
        return .hold
    }
}

/// Bollinger band reversion: enter when the close falls below the lower band, exit when it
/// is back above the middle band. Defaults 20 bars, 2 standard deviations (Bollinger).
public struct BollingerReversion: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "bollinger_reversion", summary: "close below the lower band: enter; above the middle: exit",
        parameters: [ParameterSpec("period", default: 20, range: 2...10_000, integer: true, "band period"),
                     ParameterSpec("multiplier", default: 2, range: 0.1...10, "standard deviations")]
    ) { parameters throws(GordonError) in try BollingerReversion(parameters) }

    private var bands: BollingerBands

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        bands = BollingerBands(period: parameters.int("period"), multiplier: parameters.double("multiplier"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { bands.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        guard let value = bands.update(close) else { return .hold }
        if close < value.lower { return .enterLong(reason: "close below lower band") }
        if close > value.middle { return .exit(reason: "close above middle band") }
        return .hold
    }
}

/// Rolling z-score reversion: enter when the close is `entry` standard deviations below its
/// rolling mean, exit when the z-score is back above `exit`. Defaults 20 / 2 / 0.
public struct ZScoreReversion: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "zscore_reversion", summary: "z-score below -entry: enter; above exit: exit",
        parameters: [ParameterSpec("period", default: 20, range: 2...100_000, integer: true, "window"),
                     ParameterSpec("entry", default: 2, range: 0.1...10, "entry threshold (standard deviations below the mean)"),
                     ParameterSpec("exit", default: 0, range: -10...10, "exit threshold")]
    ) { parameters throws(GordonError) in try ZScoreReversion(parameters) }

    private var zScore: RollingZScore
    private let entry: Double, exit: Double

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        entry = parameters.double("entry")
        exit = parameters.double("exit")
        try parameters.require(-entry < exit, "exit must be above -entry")
        zScore = RollingZScore(period: parameters.int("period"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { zScore.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = zScore.update(context.close) else { return .hold }
        if value < -entry { return .enterLong(reason: "z-score below -\(entry)") }
        if value > exit { return .exit(reason: "z-score above \(exit)") }
        return .hold
    }
}

/// Lane's stochastic oscillator: enter when %K crosses above %D below `oversold`, exit when
/// %K crosses below %D above `overbought`. Defaults 14 / 3 / 3, 20 / 80.
public struct StochasticReversal: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "stochastic_reversal", summary: "%K crosses above %D while oversold: enter; below while overbought: exit",
        parameters: [ParameterSpec("k_period", default: 14, range: 1...10_000, integer: true, "%K lookback"),
                     ParameterSpec("k_smoothing", default: 3, range: 1...1000, integer: true, "%K smoothing"),
                     ParameterSpec("d_period", default: 3, range: 1...1000, integer: true, "%D period"),
                     ParameterSpec("oversold", default: 20, range: 0...100, "entry zone"),
                     ParameterSpec("overbought", default: 80, range: 0...100, "exit zone")]
    ) { parameters throws(GordonError) in try StochasticReversal(parameters) }

    private var stochastic: Stochastic
    private let oversold: Double, overbought: Double
    private var previous: StochasticValue?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        oversold = parameters.double("oversold")
        overbought = parameters.double("overbought")
        try parameters.require(oversold < overbought, "oversold must be below overbought")
        stochastic = Stochastic(kPeriod: parameters.int("k_period"), kSmoothing: parameters.int("k_smoothing"),
                                dPeriod: parameters.int("d_period"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { stochastic.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = stochastic.update(context.bar) else { return .hold }
        defer { previous = value }
        guard let previous else { return .hold }
        if value.k < oversold, crossedAbove(previousA: previous.k, previousB: previous.d, a: value.k, b: value.d) {
            return .enterLong(reason: "%K crossed above %D below \(oversold)")
        }
        if value.k > overbought, crossedAbove(previousA: previous.d, previousB: previous.k, a: value.d, b: value.k) {
            return .exit(reason: "%K crossed below %D above \(overbought)")
        }
        return .hold
    }
}

/// Contrarian on the Crypto Fear & Greed index: buy extreme fear, sell extreme greed
/// ("be greedy when others are fearful"). Defaults 20 / 75. Holds while no index value
/// has been published.
public struct FearGreedContrarian: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "fear_greed_contrarian", summary: "Fear & Greed at or below fear: enter; at or above greed: exit",
        parameters: [ParameterSpec("fear", default: 20, range: 0...100, "entry level"),
                     ParameterSpec("greed", default: 75, range: 0...100, "exit level")]
    ) { parameters throws(GordonError) in try FearGreedContrarian(parameters) }

    private let fear: Double, greed: Double

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        fear = parameters.double("fear")
        greed = parameters.double("greed")
        try parameters.require(fear < greed, "fear must be below greed")
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let index = context.fearGreed else { return .hold }
        if index <= fear { return .enterLong(reason: "Fear & Greed at \(index)") }
        if index >= greed { return .exit(reason: "Fear & Greed at \(index)") }
        return .hold
    }
}
