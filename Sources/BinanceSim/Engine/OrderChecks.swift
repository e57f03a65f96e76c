import GordonKernel
import GordonDomain

/// A request that passed every check independent of the account: the shape, the amounts
/// and the symbol's filters.
struct CheckedOrder: Sendable {
    let side: Side
    let type: OrderType
    let timeInForce: TimeInForce?
    let size: OrderSize
    /// The limit price; nil for MARKET.
    let price: ExactDecimal?
    /// The trigger of a stop-limit order; nil otherwise.
    let stopPrice: ExactDecimal?
    let selfTradePreventionMode: String
    let clientOrderId: String?
}

/// The API-layer checks of `POST /api/v3/order`, in Binance's order: symbol, client id,
/// order type, mandatory and superfluous parameters, amount range and precision, then the
/// filters. `POST /api/v3/order/test` runs exactly these: it "creates and validates a new
/// order but does not send it into the matching engine" (rest-api.md), so balance, duplicate
/// client ids and LIMIT_MAKER crossing, which the matching engine decides, are not checked.
enum OrderChecks {
    /// Binance keeps amounts as signed 64-bit counts of 10^-8: 92233720368.54775807 at most.
    static let largestAmount = ExactDecimal(significand: 9_223_372_036_854_775_807, scale: 8)

    static func check(_ params: SimOrderParams, in market: SymbolMarket) throws(SimRejection) -> CheckedOrder {
        let spec = market.spec
        if let id = params.newClientOrderId, (try? ClientOrderId(id)) == nil {
            throw SimRejection.illegalCharacters("newClientOrderId")
        }
        let size: OrderSize
        let price: ExactDecimal?
        var stopPrice: ExactDecimal?
        if params.stopPrice != nil, params.type != .stopLossLimit, params.type != .takeProfitLimit {
            throw SimRejection.notRequired("stopPrice")
        }
        let stpMode = params.selfTradePreventionMode ?? spec.defaultSelfTradePreventionMode
        guard spec.allowedSelfTradePreventionModes.contains(stpMode) else { throw SimRejection.selfTradePreventionModeNotAllowed }
        switch params.type {
        case .market:
            if params.price != nil { throw SimRejection.notRequired("price") }
            if params.timeInForce != nil { throw SimRejection.notRequired("timeInForce") }
            switch (params.quantity, params.quoteOrderQty) {
            case (nil, nil): throw SimRejection.eitherMandatory("quantity", "quoteOrderQty")
            case (.some, .some): throw SimRejection.notRequired("quoteOrderQty")
            case (let quantity?, nil): size = .base(try amount(quantity, "quantity", precision: spec.baseAssetPrecision))
            case (nil, let quote?): size = .quote(try amount(quote, "quoteOrderQty", precision: spec.quotePrecision))
            }
            price = nil
        case .limit, .limitMaker:
            if params.type == .limit, params.timeInForce == nil { throw SimRejection.mandatory("timeInForce") }
            if params.type == .limitMaker, params.timeInForce != nil { throw SimRejection.notRequired("timeInForce") }
            guard let quantity = params.quantity else { throw SimRejection.mandatory("quantity") }
            guard let limit = params.price else { throw SimRejection.mandatory("price") }
            if params.quoteOrderQty != nil { throw SimRejection.notRequired("quoteOrderQty") }
            size = .base(try amount(quantity, "quantity", precision: spec.baseAssetPrecision))
            price = try amount(limit, "price", precision: spec.quotePrecision)
            guard price!.isPositive else { throw SimRejection.invalidPrice }
        case .stopLossLimit, .takeProfitLimit:
            guard let timeInForce = params.timeInForce else { throw SimRejection.mandatory("timeInForce") }
            guard let quantity = params.quantity else { throw SimRejection.mandatory("quantity") }
            guard let limit = params.price else { throw SimRejection.mandatory("price") }
            guard let stop = params.stopPrice else { throw SimRejection.mandatory("stopPrice") }
            if params.quoteOrderQty != nil { throw SimRejection.notRequired("quoteOrderQty") }
            // A triggered stop works here as a resting limit order; an IOC or FOK one would
            // have to expire on trigger, which is not simulated: refused rather than faked.
            guard timeInForce == .gtc else {
                throw SimRejection(code: -1013, message: "This simulator works stop-limit orders with timeInForce GTC only.")
            }
            size = .base(try amount(quantity, "quantity", precision: spec.baseAssetPrecision))
            price = try amount(limit, "price", precision: spec.quotePrecision)
            stopPrice = try amount(stop, "stopPrice", precision: spec.quotePrecision)
            guard price!.isPositive else { throw SimRejection.invalidPrice }
            guard stopPrice!.isPositive else { throw SimRejection(code: -1013, message: "Invalid stopPrice.") }
            // PRICE_FILTER applies to the trigger as to the limit.
            try checkFilters(type: .limit, size: size, price: stopPrice, market: market)
        case .stopLoss, .takeProfit:
            throw SimRejection.unsupportedType(params.type.rawValue)
        }
        try checkFilters(type: params.type, size: size, price: price, market: market)
        return CheckedOrder(side: params.side, type: params.type, timeInForce: params.timeInForce,
                            size: size, price: price, stopPrice: stopPrice, selfTradePreventionMode: stpMode,
                            clientOrderId: params.newClientOrderId)
    }

    /// Range and precision of one amount; a negative one is malformed (-1102).
    private static func amount(_ value: ExactDecimal, _ name: String, precision: Int) throws(SimRejection) -> ExactDecimal {
        if value.isNegative { throw SimRejection.mandatory(name) }
        if value > largestAmount { throw SimRejection.overflow(name) }
        if value.scale > precision { throw SimRejection.tooMuchPrecision(name) }
        return value
    }

    /// The symbol's filters through the domain's `ExchangeFilters.validate`, its failure named
    /// as Binance names it. A MARKET order is checked at the last price (Binance's notional
    /// check for market orders uses a reference price too); one sized by `quoteOrderQty` is
    /// checked with the quantity that amount buys at the last price. With no last price a
    /// MARKET order has nothing to trade against: "Market is closed.".
    private static func checkFilters(type: OrderType, size: OrderSize, price: ExactDecimal?, market: SymbolMarket) throws(SimRejection) {
        let filterPrice: ExactDecimal
        if let price {
            filterPrice = price
        } else {
            guard let last = market.lastPrice else { throw SimRejection.marketClosed }
            filterPrice = last
        }
        let quantity: ExactDecimal
        switch size {
        case .base(let base): quantity = base
        case .quote(let quote): quantity = TakerWalk.wholeSteps(of: quote, at: filterPrice, step: market.spec.marketStep)
        }
        do {
            try market.spec.filters.validate(type: type, price: Price(filterPrice), quantity: Quantity(quantity))
        } catch {
            if error.code == .filterFailure {
                throw SimRejection.filterFailure(error.context["filter"] ?? "UNKNOWN")
            }
            // Amounts are range-checked above, so only an arithmetic overflow lands here.
            throw SimRejection.overflow("quantity")
        }
    }
}
