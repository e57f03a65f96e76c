public import GordonKernel

/// Every entry strategy Gordon knows, by name. Bot configs, `gordonctl backtest` and the
/// manager's sweeps build strategies only through here, so a name means the same rule and
/// the same defaults everywhere.
public enum StrategyCatalog {
    public static let all: [StrategyDescriptor] = [
        EMACrossover.descriptor,
        SMACrossover.descriptor,
        RSIMeanReversion.descriptor,
        BollingerReversion.descriptor,
        BollingerSqueezeBreakout.descriptor,
        DonchianBreakout.descriptor,
        MACDSignalCross.descriptor,
        SupertrendFollow.descriptor,
        ADXTrend.descriptor,
        StochasticReversal.descriptor,
        KeltnerBreakout.descriptor,
        ZScoreReversion.descriptor,
        FearGreedContrarian.descriptor,
        VolatilityAdjustedMomentum.descriptor,
    ]

    public static func make(_ config: StrategyConfig) throws(GordonError) -> any Strategy {
        try StrategyDescriptor.make(config, from: all, kind: "strategy")
    }
}

/// `a` crosses above `b` between the previous bar and this one: strictly below before,
/// strictly above now (the definition backtesting.py's `crossover` uses).
@inline(__always)
func crossedAbove(previousA: Double, previousB: Double, a: Double, b: Double) -> Bool {
    previousA < previousB && a > b
}
