public import GordonKernel

/// A symbol's trading rules from Binance's `exchangeInfo` (filters.md), applied with exact
/// decimal rounding before an order leaves Gordon, so the exchange never has to reject one
/// for a rounding slip. A nil field means the filter is absent.
public struct ExchangeFilters: Sendable, Hashable, Codable {
    /// PRICE_FILTER: `minPrice`, `maxPrice` (zero = no bound) and `tickSize`.
    public var tickSize: ExactDecimal?
    public var minPrice: ExactDecimal?
    public var maxPrice: ExactDecimal?
    /// LOT_SIZE: limits and step for every order's quantity.
    public var stepSize: ExactDecimal?
    public var minQuantity: ExactDecimal?
    public var maxQuantity: ExactDecimal?
    /// MARKET_LOT_SIZE: the tighter bound Binance applies to MARKET orders.
    public var marketStepSize: ExactDecimal?
    public var marketMaxQuantity: ExactDecimal?
    /// MIN_NOTIONAL / NOTIONAL: `price × quantity` must be at least this (and at most
    /// `maxNotional` when NOTIONAL gives one).
    public var minNotional: ExactDecimal?
    public var maxNotional: ExactDecimal?

    public init(tickSize: ExactDecimal? = nil, minPrice: ExactDecimal? = nil, maxPrice: ExactDecimal? = nil,
                stepSize: ExactDecimal? = nil, minQuantity: ExactDecimal? = nil, maxQuantity: ExactDecimal? = nil,
                marketStepSize: ExactDecimal? = nil, marketMaxQuantity: ExactDecimal? = nil,
                minNotional: ExactDecimal? = nil, maxNotional: ExactDecimal? = nil) {
        self.tickSize = tickSize
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.stepSize = stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.marketStepSize = marketStepSize
        self.marketMaxQuantity = marketMaxQuantity
        self.minNotional = minNotional
        self.maxNotional = maxNotional
    }

    /// No filters: every positive price and quantity passes unchanged.
    public static let none = ExchangeFilters()

    /// The price on the tick grid: a buy rounds down and a sell rounds up, so rounding never
    /// makes a limit worse for Gordon than the strategy asked.
    public func roundedPrice(_ price: Price, side: Side) throws(GordonError) -> Price {
        guard let tickSize, tickSize.isPositive else { return price }
        return try price.rounded(toTick: tickSize, rule: side == .buy ? .down : .up)
    }

    /// The quantity on the step grid, always rounded down (never more than asked).
    public func roundedQuantity(_ quantity: Quantity, type: OrderType) throws(GordonError) -> Quantity {
        let step = (type == .market ? marketStepSize.flatMap { $0.isPositive ? $0 : nil } : nil) ?? stepSize
        guard let step, step.isPositive else { return quantity }
        return try Quantity(quantity.value.rounded(toMultipleOf: step, rule: .down))
    }

    /// Checks an order as Binance would; the error names the filter it fails, as Binance's
    /// `-1013 Filter failure: LOT_SIZE` does. `price` is the limit price, or for a market
    /// order the price it is expected to fill at (for the notional check).
    public func validate(type: OrderType, price: Price, quantity: Quantity) throws(GordonError) {
        func failure(_ filter: String, _ detail: String) -> GordonError {
            GordonError(.filterFailure, "Filter failure: \(filter): \(detail)",
                        context: ["filter": filter, "price": price.description, "quantity": quantity.description])
        }
        if type != .market {
            if let minPrice, minPrice.isPositive, price.value < minPrice { throw failure("PRICE_FILTER", "price below \(minPrice)") }
            if let maxPrice, maxPrice.isPositive, price.value > maxPrice { throw failure("PRICE_FILTER", "price above \(maxPrice)") }
            if let tickSize, tickSize.isPositive, try price.value.rounded(toMultipleOf: tickSize, rule: .down) != price.value {
                throw failure("PRICE_FILTER", "price is not a multiple of \(tickSize)")
            }
        }
        guard quantity.value.isPositive else { throw failure("LOT_SIZE", "quantity must be positive") }
        if let minQuantity, quantity.value < minQuantity { throw failure("LOT_SIZE", "quantity below \(minQuantity)") }
        if let maxQuantity, maxQuantity.isPositive, quantity.value > maxQuantity { throw failure("LOT_SIZE", "quantity above \(maxQuantity)") }
        if let stepSize, stepSize.isPositive, try quantity.value.rounded(toMultipleOf: stepSize, rule: .down) != quantity.value {
            throw failure("LOT_SIZE", "quantity is not a multiple of \(stepSize)")
        }
        if type == .market {
            if let marketMaxQuantity, marketMaxQuantity.isPositive, quantity.value > marketMaxQuantity {
                throw failure("MARKET_LOT_SIZE", "quantity above \(marketMaxQuantity)")
            }
            if let marketStepSize, marketStepSize.isPositive,
               try quantity.value.rounded(toMultipleOf: marketStepSize, rule: .down) != quantity.value {
                throw failure("MARKET_LOT_SIZE", "quantity is not a multiple of \(marketStepSize)")
            }
        }
        let notional = try price.notional(for: quantity)
        if let minNotional, notional < minNotional { throw failure("NOTIONAL", "notional \(notional) below \(minNotional)") }
        if let maxNotional, maxNotional.isPositive, notional > maxNotional {
            throw failure("NOTIONAL", "notional \(notional) above \(maxNotional)")
        }
    }
}

/// Commission rates as Binance states them for an account (`commissionRates` in
/// `/api/v3/account`): fractions of the traded notional, e.g. `0.001` for 0.1%.
public struct FeeModel: Sendable, Hashable, Codable {
    public var makerRate: ExactDecimal
    public var takerRate: ExactDecimal
    /// Paying commission in BNB takes this fraction off (Binance: 25%).
    public var bnbDiscount: ExactDecimal
    public var payWithBNB: Bool

    public init(makerRate: ExactDecimal, takerRate: ExactDecimal, bnbDiscount: ExactDecimal = ExactDecimal(significand: 25, scale: 2),
                payWithBNB: Bool = false) {
        self.makerRate = makerRate
        self.takerRate = takerRate
        self.bnbDiscount = bnbDiscount
        self.payWithBNB = payWithBNB
    }

    /// Binance's default spot tier: 0.1% maker and taker.
    public static let binanceDefault = FeeModel(makerRate: ExactDecimal(significand: 1, scale: 3),
                                                takerRate: ExactDecimal(significand: 1, scale: 3))
    public static let free = FeeModel(makerRate: .zero, takerRate: .zero)

    /// Rates in basis points (`10` = 0.1%).
    public init(makerBps: ExactDecimal, takerBps: ExactDecimal, payWithBNB: Bool = false) throws(GordonError) {
        let tenThousand = ExactDecimal(10_000)
        self.init(makerRate: try makerBps.divided(by: tenThousand, scale: 12, rounding: .halfEven),
                  takerRate: try takerBps.divided(by: tenThousand, scale: 12, rounding: .halfEven),
                  payWithBNB: payWithBNB)
    }

    /// The fraction of notional charged: taker or maker rate, less the BNB discount.
    public func rate(isMaker: Bool) -> ExactDecimal {
        let base = isMaker ? makerRate : takerRate
        return payWithBNB ? base * (ExactDecimal.one - bnbDiscount) : base
    }

    /// The commission on `notional`, in the quote asset's value.
    public func commission(notional: ExactDecimal, isMaker: Bool) -> ExactDecimal {
        notional * rate(isMaker: isMaker)
    }
}
