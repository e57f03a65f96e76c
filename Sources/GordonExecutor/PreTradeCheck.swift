public import GordonDomain
public import GordonKernel

/// Gordon's own limits on what a bot may place, checked by the executor before an order goes
/// to the exchange (the exchange's filters are checked after, by `NewOrder.conforming`).
/// Notional amounts are in the symbol's quote asset.
public struct TradingLimits: Sendable, Equatable {
    /// One order's notional (quantity × limit price, or × the last price for MARKET).
    public var maxOrderNotional: ExactDecimal
    /// The bot's position in the symbol after the order, valued at the order's price.
    public var maxPositionNotional: ExactDecimal
    /// The bot's open orders, this one included.
    public var maxOpenOrders: Int
    /// Every bot's positions together after the order (what gordon-risk's exposure breaker
    /// also watches; here it stops the order that would cross it).
    public var maxGrossExposure: ExactDecimal

    public init(maxOrderNotional: ExactDecimal, maxPositionNotional: ExactDecimal, maxOpenOrders: Int, maxGrossExposure: ExactDecimal) {
        self.maxOrderNotional = maxOrderNotional
        self.maxPositionNotional = maxPositionNotional
        self.maxOpenOrders = maxOpenOrders
        self.maxGrossExposure = maxGrossExposure
    }

    /// Small on purpose: an operator raises them knowingly.
    public static let safeDefaults = TradingLimits(maxOrderNotional: 100, maxPositionNotional: 250, maxOpenOrders: 4, maxGrossExposure: 1000)
}

/// What the executor knows when an intent arrives, read in the transaction that records the
/// verdict.
public struct PreTradeContext: Sendable, Equatable {
    public var halted: Bool
    public var desiredState: DesiredState
    /// The bot's open orders in any symbol.
    public var openOrders: Int
    /// The bot's position in the order's symbol, in the base asset.
    public var position: ExactDecimal
    /// The bot's open BUY orders in the symbol: what they would still spend, in quote.
    public var openBuyNotional: ExactDecimal
    /// The bot's open SELL orders in the symbol: what they would still sell, in base.
    public var openSellQuantity: ExactDecimal
    /// The last price of the symbol, for MARKET orders.
    public var lastPrice: Price
    /// Every bot's positions valued in quote, together.
    public var grossExposure: ExactDecimal
    /// Free balances on the exchange.
    public var free: [Asset: ExactDecimal]

    public init(halted: Bool, desiredState: DesiredState, openOrders: Int, position: ExactDecimal, openBuyNotional: ExactDecimal = .zero,
                openSellQuantity: ExactDecimal = .zero, lastPrice: Price, grossExposure: ExactDecimal, free: [Asset: ExactDecimal]) {
        self.halted = halted
        self.desiredState = desiredState
        self.openOrders = openOrders
        self.position = position
        self.openBuyNotional = openBuyNotional
        self.openSellQuantity = openSellQuantity
        self.lastPrice = lastPrice
        self.grossExposure = grossExposure
        self.free = free
    }
}

/// Why an intent was refused; the code is what `order_intents`/metrics record.
public struct PreTradeRefusal: Sendable, Equatable, Error {
    public enum Code: String, Sendable, CaseIterable {
        case halted, botNotRunning, orderTooLarge, positionLimit, openOrderLimit, exposureLimit, insufficientBalance, wouldShort, unknownAssets
    }
    public let code: Code
    public let message: String
}

/// Whether an intent may be placed. A plain function of the request, the limits and the
/// context: the executor records the answer, the tests call it directly.
///
/// Amounts are valued at the highest of the limit price, the stop price and the last price
/// (a stop order executes near its trigger, a market order near the last price, and a buy
/// priced below the market must not make a position look smaller than it is); the bot's own
/// open orders count as if they filled.
///
/// An emergency flatten is the one flow the halt latch allows: a SELL of what the bot holds,
/// checked only against what it holds, never refused for being large.
///
/// Intents sized in quote (`quoteOrderQuantity`) are not `OrderRequest`s; they get their own
/// check when the executor places them.
public enum PreTradeCheck {
    public enum Purpose: Sendable { case strategy, flatten }

    public static func evaluate(_ request: OrderRequest, purpose: Purpose = .strategy, limits: TradingLimits,
                                context: PreTradeContext) -> PreTradeRefusal? {
        func refuse(_ code: PreTradeRefusal.Code, _ message: String) -> PreTradeRefusal { PreTradeRefusal(code: code, message: message) }
        guard let base = request.symbol.base, let quote = request.symbol.quote else {
            return refuse(.unknownAssets, "\(request.symbol) does not split into base and quote assets")
        }
        let quantity = request.quantity.value
        // Spot: a bot sells only what it holds and has not already offered.
        guard let offered = try? quantity.adding(context.openSellQuantity) else { return refuse(.wouldShort, "the sell size is out of range") }
        if purpose == .flatten {
            guard request.side == .sell else { return refuse(.wouldShort, "a flatten only sells") }
            guard offered <= context.position else {
                return refuse(.wouldShort, "flatten sells \(offered) \(base) with open orders but the bot holds \(context.position)")
            }
            return nil
        }
        if context.halted { return refuse(.halted, "trading is halted; an operator resumes it") }
        guard context.desiredState == .running else { return refuse(.botNotRunning, "the bot is \(context.desiredState)") }
        guard context.openOrders < limits.maxOpenOrders else {
            return refuse(.openOrderLimit, "the bot has \(context.openOrders) open orders; the limit is \(limits.maxOpenOrders)")
        }
        let price = [request.price?.value, request.stopPrice?.value, context.lastPrice.value].compactMap { $0 }.max() ?? context.lastPrice.value
        // Bots are not trusted with sizes: overflow is a refusal, never a trap.
        guard let notional = try? quantity.multiplied(by: price) else { return refuse(.orderTooLarge, "the order's notional is out of range") }
        guard notional <= limits.maxOrderNotional else {
            return refuse(.orderTooLarge, "notional \(notional) \(quote) is above the \(limits.maxOrderNotional) per order")
        }
        switch request.side {
        case .buy:
            guard let held = try? context.position.multiplied(by: price),
                  let afterNotional = try? held.adding(context.openBuyNotional).adding(notional),
                  afterNotional <= limits.maxPositionNotional else {
                return refuse(.positionLimit, "the position with open orders would be worth more than \(limits.maxPositionNotional) \(quote)")
            }
            guard let exposure = try? context.grossExposure.adding(context.openBuyNotional).adding(notional), exposure <= limits.maxGrossExposure else {
                return refuse(.exposureLimit, "gross exposure would pass \(limits.maxGrossExposure) \(quote)")
            }
            guard notional <= context.free[quote] ?? .zero else {
                return refuse(.insufficientBalance, "needs \(notional) \(quote), \(context.free[quote] ?? .zero) free")
            }
        case .sell:
            guard offered <= context.position else {
                return refuse(.wouldShort, "sells \(offered) \(base) with open orders but the bot holds \(context.position)")
            }
            guard quantity <= context.free[base] ?? .zero else {
                return refuse(.insufficientBalance, "needs \(quantity) \(base), \(context.free[base] ?? .zero) free")
            }
        }
        return nil
    }
}
