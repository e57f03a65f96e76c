public import GordonKernel

/// How much of the account an entry commits, as a fraction of equity. The backtester and
/// the bot turn the fraction into a quantity at the fill price, with commission and the
/// symbol's step size, so the order is one the cash can pay for.
public enum Sizing: Sendable, Hashable {
    /// A fixed fraction of equity (`1` = all in).
    case fixedFraction(Double)
    /// Scale exposure so the position's annualised volatility is `target` (e.g. `0.5` =
    /// 50%/year): fraction = target / realised, realised from the sample standard deviation
    /// of the last `lookback` log returns; capped at `maxFraction`.
    case volatilityTarget(target: Double, lookback: Int, maxFraction: Double)
    /// The Kelly fraction `W − (1 − W) / R` (W = win rate, R = average win / average loss)
    /// of the last `lookbackTrades` closed trades, times `scale`, capped at `cap` and floored
    /// at 0; `initialFraction` until `minTrades` trades have closed.
    case kelly(scale: Double, cap: Double, lookbackTrades: Int, minTrades: Int, initialFraction: Double)

    public typealias Descriptor = RuleDescriptor<Sizing>

    public static let catalog: [Descriptor] = [
        Descriptor(name: "fixed_fraction", summary: "a fixed fraction of equity",
                   parameters: [ParameterSpec("fraction", default: 0.9999, range: 0.0001...1, "fraction of equity per entry")]) {
            .fixedFraction($0.double("fraction"))
        },
        Descriptor(name: "volatility_target", summary: "size for a target annualised volatility",
                   parameters: [ParameterSpec("target", default: 0.5, range: 0.001...10, "annualised volatility target"),
                                ParameterSpec("lookback", default: 100, range: 2...100_000, integer: true, "bars of returns"),
                                ParameterSpec("max_fraction", default: 1, range: 0.0001...1, "cap on the fraction")]) {
            .volatilityTarget(target: $0.double("target"), lookback: $0.int("lookback"), maxFraction: $0.double("max_fraction"))
        },
        Descriptor(name: "kelly", summary: "capped Kelly fraction from recent closed trades",
                   parameters: [ParameterSpec("scale", default: 0.5, range: 0.01...1, "fraction of full Kelly"),
                                ParameterSpec("cap", default: 0.5, range: 0.0001...1, "cap on the fraction"),
                                ParameterSpec("lookback_trades", default: 50, range: 2...100_000, integer: true, "closed trades considered"),
                                ParameterSpec("min_trades", default: 10, range: 1...100_000, integer: true, "trades before Kelly applies"),
                                ParameterSpec("initial_fraction", default: 0.1, range: 0.0001...1, "fraction until then")]) {
            .kelly(scale: $0.double("scale"), cap: $0.double("cap"), lookbackTrades: $0.int("lookback_trades"),
                   minTrades: $0.int("min_trades"), initialFraction: $0.double("initial_fraction"))
        },
    ]

    public init(_ config: StrategyConfig) throws(GordonError) {
        self = try Descriptor.make(config, from: Sizing.catalog, kind: "sizing")
    }

    public static let `default` = Sizing.fixedFraction(0.9999)
}

/// The running state a sizing rule needs: recent volatility and closed-trade returns.
struct SizingState {
    let sizing: Sizing
    let barsPerYear: Double
    private var volatility: RollingVolatility?
    private var tradeReturns: [Double] = []

    init(_ sizing: Sizing, barsPerYear: Double) {
        self.sizing = sizing
        self.barsPerYear = barsPerYear
        if case .volatilityTarget(_, let lookback, _) = sizing { volatility = RollingVolatility(period: lookback) }
    }

    /// Whether `observe(close:)` matters (only volatility targeting reads closes).
    var observesCloses: Bool { volatility != nil }

    mutating func observe(close: Double) {
        _ = volatility?.update(close)
    }

    mutating func observe(tradeReturn: Double) {
        tradeReturns.append(tradeReturn)
    }

    /// The fraction of equity to commit to an entry now, capped by the plan's exposure limit.
    func fraction(maxExposure: Double) -> Double { min(fraction(), maxExposure) }

    /// The fraction of equity to commit now, in 0...1.
    func fraction() -> Double {
        switch sizing {
        case .fixedFraction(let fraction):
            return fraction
        case .volatilityTarget(let target, _, let maxFraction):
            guard let perBar = volatility?.value, perBar > 0 else { return 0 }
            return min(maxFraction, target / (perBar * barsPerYear.squareRoot()))
        case .kelly(let scale, let cap, let lookbackTrades, let minTrades, let initialFraction):
            guard tradeReturns.count >= minTrades else { return initialFraction }
            let recent = tradeReturns.suffix(lookbackTrades)
            let wins = recent.filter { $0 > 0 }, losses = recent.filter { $0 <= 0 }
            guard !wins.isEmpty else { return 0 }
            guard !losses.isEmpty else { return cap }
            let winRate = Double(wins.count) / Double(recent.count)
            let averageWin = wins.reduce(0, +) / Double(wins.count)
            let averageLoss = -losses.reduce(0, +) / Double(losses.count)
            guard averageLoss > 0 else { return cap }
            let kelly = winRate - (1 - winRate) / (averageWin / averageLoss)
            return min(cap, max(0, kelly * scale))
        }
    }
}
