public import GordonDomain
public import GordonKernel

/// One round trip: a long entry and the exit that closed it.
public struct Trade: Sendable, Hashable {
    public let entryIndex: Int
    public let exitIndex: Int
    public let entryTime: Timestamp
    public let exitTime: Timestamp
    /// Average fill prices.
    public let entryPrice: Price
    public let exitPrice: Price
    public let quantity: Quantity
    /// Commission on both legs, in the quote asset.
    public let commission: ExactDecimal
    /// Exit proceeds − entry cost − commission.
    public let profit: ExactDecimal
    public let entryReason: String
    public let exitReason: String

    /// Profit relative to the entry cost (notional plus entry commission).
    public var returnFraction: Double {
        let cost = (entryPrice.value * quantity.value).doubleApproximation
        return cost > 0 ? profit.doubleApproximation / cost : 0
    }
}

/// What to trade: an entry strategy, its overlays, a sizing rule and an exposure cap.
public struct TradingPlan: Sendable, Hashable, Codable {
    public var strategy: StrategyConfig
    public var overlays: [StrategyConfig]
    public var sizing: StrategyConfig
    /// The most of equity a position may be worth at entry, in 0...1.
    public var maxExposure: Double

    public init(strategy: StrategyConfig, overlays: [StrategyConfig] = [],
                sizing: StrategyConfig = StrategyConfig(name: "fixed_fraction"), maxExposure: Double = 1) {
        self.strategy = strategy
        self.overlays = overlays
        self.sizing = sizing
        self.maxExposure = maxExposure
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        strategy = try container.decode(StrategyConfig.self, forKey: .strategy)
        overlays = try container.decodeIfPresent([StrategyConfig].self, forKey: .overlays) ?? []
        sizing = try container.decodeIfPresent(StrategyConfig.self, forKey: .sizing) ?? StrategyConfig(name: "fixed_fraction")
        maxExposure = try container.decodeIfPresent(Double.self, forKey: .maxExposure) ?? 1
    }

    /// The strategy with its overlays, validated; an unknown name or a bad parameter is a
    /// one-line error.
    public func makeStrategy() throws(GordonError) -> any Strategy {
        let base = try StrategyCatalog.make(strategy)
        var overlays: [Overlay] = []
        for config in self.overlays { overlays.append(try Overlay(config)) }
        return overlays.isEmpty ? base : OverlaidStrategy(base, overlays: overlays)
    }

    public func makeSizing() throws(GordonError) -> Sizing {
        try Sizing(sizing)
    }

    func validated() throws(GordonError) -> (any Strategy, Sizing) {
        guard maxExposure > 0, maxExposure <= 1 else {
            throw GordonError(.invalidBacktestConfig, "maxExposure must be in (0, 1], got \(maxExposure)")
        }
        return (try makeStrategy(), try makeSizing())
    }
}

/// A backtest's outcome.
public struct BacktestResult: Sendable {
    public let strategyName: String
    public let trades: [Trade]
    /// Equity at each bar's close (cash plus the position at the close), one per bar.
    public let equity: [Double]
    /// Cash at each bar's close, aligned with `equity` (the rest of the equity is the position).
    public let cash: [Double]
    /// Open time of each bar, aligned with `equity`.
    public let times: [Int64]
    /// Whether a position was held at each bar's close.
    public let inPosition: [Bool]
    public let fills: [Fill]
    public let initialCash: ExactDecimal
    public let finalCash: ExactDecimal
    public let finalPosition: ExactDecimal
    public let totalCommission: ExactDecimal
    public let barsPerYear: Double

    public var metrics: Metrics { Metrics(self) }
}

/// Runs a plan over a series, one closed bar at a time, through `BacktestExecution`.
///
/// Per bar: pending orders from the previous close execute at this bar's open (sized at
/// that price); the bar closes; the strategy and its overlays see it and may signal; with
/// `sameClose` timing the signal executes at this close instead. Bars before
/// `tradeFrom` warm the strategy up but their signals are not acted on.
public struct Backtester: Sendable {
    public let settings: BacktestSettings
    public var botId: BotId

    public init(settings: BacktestSettings = BacktestSettings()) {
        self.settings = settings
        self.botId = try! BotId("backtest")
    }

    public func run(_ plan: TradingPlan, on series: BarSeries, context extra: MarketContext? = nil,
                    tradeFrom: Int = 0, progress: ((Int) -> Void)? = nil) throws(GordonError) -> BacktestResult {
        let (strategy, sizing) = try plan.validated()
        return try run(strategy: strategy, sizing: sizing, maxExposure: plan.maxExposure, on: series, context: extra,
                       tradeFrom: tradeFrom, progress: progress)
    }

    public func run(strategy: any Strategy, sizing: Sizing = .default, maxExposure: Double = 1, on series: BarSeries,
                    context extra: MarketContext? = nil, tradeFrom: Int = 0,
                    progress: ((Int) -> Void)? = nil) throws(GordonError) -> BacktestResult {
        var strategy = strategy
        return try runOpened(&strategy, sizing: sizing, maxExposure: maxExposure, series: series, extra: extra,
                             tradeFrom: tradeFrom, progress: progress)
    }

    private func runOpened<S: Strategy>(_ strategy: inout S, sizing: Sizing, maxExposure: Double, series: BarSeries,
                                        extra: MarketContext?, tradeFrom: Int,
                                        progress: ((Int) -> Void)?) throws(GordonError) -> BacktestResult {
        guard !series.isEmpty else { throw GordonError(.invalidMarketData, "no bars to backtest") }
        // A busy strategy places an order every few dozen bars; growing the table in steps
        // would rehash every order id each time.
        let exchange = BacktestExecution(symbol: series.symbol, priceDecimals: series.priceDecimals, settings: settings,
                                         expectedOrders: max(1024, series.count / 32))
        let barsPerYear = 365.25 * 86_400_000 / Double(series.interval.nominalMilliseconds)
        var context = extra ?? MarketContext(series: series)
        var sizer = SizingState(sizing, barsPerYear: barsPerYear)
        var ledger = Ledger(exchange: exchange, botId: botId, symbol: series.symbol, maxExposure: maxExposure,
                            filters: settings.filters, fees: settings.fees)
        var equity: [Double] = [], cash: [Double] = [], inPosition: [Bool] = []
        equity.reserveCapacity(series.count)
        cash.reserveCapacity(series.count)
        inPosition.reserveCapacity(series.count)
        var pending: Signal = .hold
        let progressEvery = max(1, series.count / 100)
        let observesCloses = sizer.observesCloses
        let lastIndex = series.count - 1
        context.position = ledger.position
        /// Executes at the bar's close (same-close fills, and the end-of-data exit).
        func closeAndExecute(_ signal: Signal, at index: Int) throws(GordonError) {
            exchange.close(bar: series[index], closeTime: series.interval.closeTime(forOpenTime: series.openTime[index]))
            try ledger.execute(signal, index: index, sizer: &sizer)
            context.position = ledger.position
        }
        for index in series.indices {
            // The exchange needs the bar only when an order goes out (the backtester places
            // market orders only, so nothing rests between bars).
            if pending != .hold {
                try exchange.open(bar: series[index])
                try ledger.execute(pending, index: index, sizer: &sizer)
                context.position = ledger.position
                pending = .hold
            }
            guard context.advance() else {
                throw GordonError(.internalInvariant, "market context and series disagree on the bar count")
            }
            let close = series.close[index]
            if observesCloses { sizer.observe(close: close) }
            var signal = strategy.next(context).acted(whenOpen: ledger.position.isOpen)
            if index < tradeFrom { signal = .hold }
            if signal != .hold {
                if settings.fillTiming == .sameClose {
                    try closeAndExecute(signal, at: index)
                } else {
                    pending = signal
                }
            }
            if index == lastIndex, settings.closeAtEnd, ledger.position.isOpen {
                try closeAndExecute(.exit(reason: "end of data"), at: index)
            }
            equity.append(ledger.equity(at: close))
            cash.append(ledger.cash)
            inPosition.append(ledger.position.isOpen)
            if let progress, index % progressEvery == 0 { progress(index) }
        }
        let book = exchange.snapshot
        return BacktestResult(strategyName: strategy.name, trades: ledger.trades, equity: equity, cash: cash, times: series.openTime,
                              inPosition: inPosition, fills: exchange.fills, initialCash: settings.initialCash,
                              finalCash: book.cash + book.lockedCash, finalPosition: book.base + book.lockedBase,
                              totalCommission: book.totalCommission, barsPerYear: barsPerYear)
    }
}

/// Turns signals into orders and fills into trades; keeps the strategy's view of the position.
struct Ledger {
    let exchange: BacktestExecution
    let botId: BotId
    let symbol: Symbol
    let maxExposure: Double
    let filters: ExchangeFilters
    let fees: FeeModel
    private(set) var position = PositionView.flat
    private(set) var trades: [Trade] = []
    private var cashValue: Double
    private var baseValue = 0.0
    private var orderCount = 0
    private var entry: (index: Int, time: Timestamp, price: Price, quantity: Quantity, commission: ExactDecimal, cost: ExactDecimal, reason: String)?

    init(exchange: BacktestExecution, botId: BotId, symbol: Symbol, maxExposure: Double, filters: ExchangeFilters,
         fees: FeeModel) {
        self.exchange = exchange
        self.botId = botId
        self.symbol = symbol
        self.maxExposure = maxExposure
        self.filters = filters
        self.fees = fees
        self.cashValue = exchange.settings.initialCash.doubleApproximation
    }

    func equity(at close: Double) -> Double { cashValue + baseValue * close }

    var cash: Double { cashValue }

    mutating func execute(_ signal: Signal, index: Int, sizer: inout SizingState) throws(GordonError) {
        let book = exchange.snapshot
        guard let reference = book.referencePrice else { return }
        switch signal {
        case .hold:
            return
        case .enterLong(let reason):
            guard !position.isOpen else { return }
            let fraction = sizer.fraction(maxExposure: maxExposure)
            guard fraction > 0 else { return }
            // Once cash is too small for one lot (a ruined account), every entry signal
            // would be refused: skip the exact arithmetic when the estimate is clearly short.
            let lot = (filters.marketStepSize ?? filters.stepSize)?.doubleApproximation ?? 1e-8
            let estimate = cashValue * fraction / (reference.value.doubleApproximation * (1 + fees.rate(isMaker: false).doubleApproximation))
            guard estimate >= lot * 0.999 else { return }
            let equity = book.equity(at: reference)
            let budget = try min(book.cash, Ledger.decimal(equity.doubleApproximation * fraction))
            let slip = ExactDecimal.one + exchange.settings.slippage
            let perUnit = try reference.value.multiplied(by: slip).multiplied(by: ExactDecimal.one + fees.rate(isMaker: false))
            guard perUnit.isPositive else { return }
            let raw = try Quantity(budget.divided(by: perUnit, scale: 8, rounding: .down))
            let quantity = try filters.roundedQuantity(raw, type: .market)
            guard quantity.value.isPositive else { return }
            guard let order = try place(.buy, quantity: quantity),
                  let (after, time, average, commission) = try executed(order, since: book) else { return }
            entry = (index, time, average, order.executedQuantity, commission, order.cumulativeQuoteQuantity, reason)
            position = PositionView(isOpen: true, entryPrice: average.value.doubleApproximation, entryIndex: index,
                                    lastExitIndex: position.lastExitIndex, quantity: order.executedQuantity.value.doubleApproximation)
            refreshValues(after)
        case .exit(let reason):
            guard position.isOpen, let entry else { return }
            let held = try Quantity(book.base)
            guard held.value.isPositive, let order = try place(.sell, quantity: held),
                  let (after, time, average, commission) = try executed(order, since: book) else { return }
            let totalCommission = entry.commission + commission
            let profit = order.cumulativeQuoteQuantity - entry.cost - totalCommission
            let trade = Trade(entryIndex: entry.index, exitIndex: index, entryTime: entry.time, exitTime: time,
                              entryPrice: entry.price, exitPrice: average, quantity: entry.quantity,
                              commission: totalCommission, profit: profit, entryReason: entry.reason, exitReason: reason)
            trades.append(trade)
            sizer.observe(tradeReturn: trade.returnFraction)
            self.entry = nil
            position = PositionView(isOpen: false, entryPrice: 0, entryIndex: 0, lastExitIndex: index, quantity: 0)
            refreshValues(after)
        }
    }

    private mutating func place(_ side: Side, quantity: Quantity) throws(GordonError) -> Order? {
        orderCount += 1
        let request = try OrderRequest(clientOrderId: ClientOrderId("bt-\(orderCount)"), botId: botId, symbol: symbol,
                                       side: side, type: .market, quantity: quantity)
        do throws(GordonError) {
            return try exchange.place(request)
        } catch {
            // The exchange would refuse it too: the signal passes without a trade.
            guard error.code == .insufficientBalance || error.code == .filterFailure else { throw error }
            return nil
        }
    }

    private mutating func refreshValues(_ book: BookSnapshot) {
        cashValue = (book.cash + book.lockedCash).doubleApproximation
        baseValue = (book.base + book.lockedBase).doubleApproximation
    }

    /// What an order placed after `before` executed: the book now, the last fill's time, the
    /// average price (the price itself for one fill, else quote over quantity to 8 places)
    /// and the commission; nil if nothing filled.
    private func executed(_ order: Order, since before: BookSnapshot) throws(GordonError)
        -> (book: BookSnapshot, time: Timestamp, average: Price, commission: ExactDecimal)? {
        let (after, fills) = exchange.snapshot(fillsFrom: before.fillCount)
        guard !order.executedQuantity.isZero, let last = fills.last else { return nil }
        let average = fills.count == 1
            ? last.price
            : try Price(order.cumulativeQuoteQuantity.divided(by: order.executedQuantity.value, scale: 8, rounding: .halfEven))
        return (after, last.time, average, fills.reduce(ExactDecimal.zero) { $0 + $1.commission })
    }

    /// A double amount as a decimal with 8 places, rounded down (never more than there is).
    static func decimal(_ value: Double) throws(GordonError) -> ExactDecimal {
        guard value.isFinite, value >= 0 else { return .zero }
        let scaled = (value * 100_000_000).rounded(.down)
        guard scaled < 1e36 else { throw GordonError(.decimalOverflow, "amount too large: \(value)") }
        return ExactDecimal(significand: Int128(scaled), scale: 8)
    }
}
