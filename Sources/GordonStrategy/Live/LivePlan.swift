public import GordonDomain
public import GordonKernel

/// A trading plan run one closed kline at a time, for a live bot: the strategy, overlays,
/// sizing rule and long-only gate the backtester runs (`Backtester`), with the bot's own
/// bookkeeping of what it holds in place of the backtester's simulated exchange.
///
/// Closing a bar and acting on it are separate steps: the bot closes each bar once, and may
/// act on the bar's signal later (when the transaction that records its intent is retried),
/// gated by the position as it is then.
public struct LivePlan: Sendable {
    public enum Decision: Sendable, Hashable {
        case hold
        /// Buy with this fraction of the bot's equity (the sizing rule, capped by the plan's
        /// exposure limit).
        case enter(fraction: Double, reason: String)
        case exit(reason: String)
    }

    private var strategy: any Strategy
    private var sizer: SizingState
    private let maxExposure: Double
    private var context: MarketContext
    public let strategyName: String
    /// Closed bars the strategy needs before it says anything but `hold`.
    public let warmUp: Int
    /// Open time of the last bar closed, if any.
    public private(set) var lastOpenTime: Int64?
    /// The signal of the last bar closed, before gating.
    public private(set) var lastSignal: Signal = .hold

    public init(plan: TradingPlan, symbol: Symbol, interval: Interval) throws(GordonError) {
        let (strategy, sizing) = try plan.validated()
        self.strategy = strategy
        self.strategyName = strategy.name
        self.warmUp = strategy.warmUp
        self.maxExposure = plan.maxExposure
        self.sizer = SizingState(sizing, barsPerYear: 365.25 * 86_400_000 / Double(interval.nominalMilliseconds))
        self.context = MarketContext(series: BarSeries(symbol: symbol, interval: interval, priceDecimals: 8))
    }

    /// Bars closed so far.
    public var barCount: Int { context.barCount }

    /// Closes `bar` (newer than the last one) with `position` as the bot holds it, and returns
    /// the strategy's signal, not yet gated. A bar that is not newer returns `hold` and
    /// changes nothing.
    @discardableResult
    public mutating func close(_ bar: Bar, position: PositionView) -> Signal {
        if let lastOpenTime, bar.openTime <= lastOpenTime { return .hold }
        context.append(bar)
        guard context.advance() else { return .hold }
        context.position = position
        sizer.observe(close: bar.close)
        lastOpenTime = bar.openTime
        lastSignal = strategy.next(context)
        return lastSignal
    }

    /// What to do about `signal` with the position open or not: the backtester's gate and
    /// sizing.
    public func decision(for signal: Signal, isOpen: Bool) -> Decision {
        switch signal.acted(whenOpen: isOpen) {
        case .hold: .hold
        case .enterLong(let reason): .enter(fraction: sizer.fraction(maxExposure: maxExposure), reason: reason)
        case .exit(let reason): .exit(reason: reason)
        }
    }

    /// Index the next closed bar will have, for a `PositionView.entryIndex`.
    public var nextIndex: Int { context.barCount }
}
