public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// A backtest as `POST /api/v1/backtests` takes it (and `gordonctl backtest --submit` sends
/// it): the plan in the backtester's JSON, the klines the database holds for one series
/// between two times, and the simulated account.
public struct BacktestRequest: Codable, Sendable, Equatable {
    public var plan: TradingPlan
    public var symbol: String
    public var interval: String
    /// The first bar's open time, epoch milliseconds.
    public var from: Int64
    /// Bars opening before this are used, epoch milliseconds.
    public var to: Int64
    /// Starting cash in the quote asset, a decimal.
    public var cash: String
    public var makerFeeBps: String
    public var takerFeeBps: String
    public var payFeesWithBNB: Bool
    /// `next_open` or `same_close`.
    public var fill: String
    public var slippageBps: String

    enum CodingKeys: String, CodingKey {
        case plan, symbol, interval, from, to, cash, fill
        case makerFeeBps = "maker_fee_bps"
        case takerFeeBps = "taker_fee_bps"
        case payFeesWithBNB = "pay_fees_with_bnb"
        case slippageBps = "slippage_bps"
    }

    public init(plan: TradingPlan, symbol: String, interval: String, from: Int64, to: Int64, cash: String = "10000",
                makerFeeBps: String = "10", takerFeeBps: String = "10", payFeesWithBNB: Bool = false, fill: String = "next_open",
                slippageBps: String = "0") {
        self.plan = plan
        self.symbol = symbol
        self.interval = interval
        self.from = from
        self.to = to
        self.cash = cash
        self.makerFeeBps = makerFeeBps
        self.takerFeeBps = takerFeeBps
        self.payFeesWithBNB = payFeesWithBNB
        self.fill = fill
        self.slippageBps = slippageBps
    }

    /// The checked request, as the worker runs it; what is wrong is `invalidBacktestConfig`
    /// (or the symbol's or interval's own error) naming the field.
    public func validated() throws(GordonError) -> (symbol: Symbol, interval: Interval, settings: BacktestSettings) {
        let symbol = try Symbol(symbol)
        let interval = try Interval(parsing: interval)
        _ = try plan.makeStrategy()
        guard from < to else { throw GordonError(.invalidBacktestConfig, "from must be before to") }
        func decimal(_ text: String, _ field: String) throws(GordonError) -> ExactDecimal {
            do {
                return try ExactDecimal(parsing: text)
            } catch {
                throw GordonError(.invalidBacktestConfig, "\(field) must be a decimal number, not '\(text)'")
            }
        }
        let cash = try decimal(cash, "cash")
        guard cash.isPositive else { throw GordonError(.invalidBacktestConfig, "cash must be positive") }
        let maker = try decimal(makerFeeBps, "maker_fee_bps"), taker = try decimal(takerFeeBps, "taker_fee_bps")
        let slippageBps = try decimal(slippageBps, "slippage_bps")
        guard !slippageBps.isNegative, slippageBps < ExactDecimal(10_000) else {
            throw GordonError(.invalidBacktestConfig, "slippage_bps must be in 0..<10000")
        }
        guard let fill = FillTiming(rawValue: fill) else { throw GordonError(.invalidBacktestConfig, "fill must be next_open or same_close") }
        let slippage = try slippageBps.divided(by: ExactDecimal(10_000), scale: 12, rounding: .halfEven)
        let settings = BacktestSettings(initialCash: cash, fees: try FeeModel(makerBps: maker, takerBps: taker, payWithBNB: payFeesWithBNB),
                                        slippage: slippage, filters: ExchangeFilters(), fillTiming: fill, closeAtEnd: true)
        return (symbol, interval, settings)
    }
}
