public import GordonKernel
public import GordonDomain

/// PERCENT_PRICE_BY_SIDE (filters.md): a limit price must lie within multipliers of the
/// weighted average price (or the reference price, where Binance has one), with separate
/// bands for bids and asks. Binance checks it in the matching engine, so an order that
/// passes every other filter can still be refused for straying from the market.
///
/// The average itself is the caller's: Binance computes it over the last `avgPriceMins`
/// minutes (the last price when 0), which this plain value cannot see.
public struct PercentPriceBySide: Sendable, Hashable, Codable {
    public var bidMultiplierUp: ExactDecimal
    public var bidMultiplierDown: ExactDecimal
    public var askMultiplierUp: ExactDecimal
    public var askMultiplierDown: ExactDecimal
    public var avgPriceMins: Int

    public init(bidMultiplierUp: ExactDecimal, bidMultiplierDown: ExactDecimal,
                askMultiplierUp: ExactDecimal, askMultiplierDown: ExactDecimal, avgPriceMins: Int) {
        self.bidMultiplierUp = bidMultiplierUp
        self.bidMultiplierDown = bidMultiplierDown
        self.askMultiplierUp = askMultiplierUp
        self.askMultiplierDown = askMultiplierDown
        self.avgPriceMins = avgPriceMins
    }

    /// The allowed price band `[low, high]` for `side`, bounds included.
    public func band(side: Side, weightedAveragePrice: Price) throws(GordonError) -> (low: ExactDecimal, high: ExactDecimal) {
        let (down, up) = side == .buy ? (bidMultiplierDown, bidMultiplierUp) : (askMultiplierDown, askMultiplierUp)
        return (try weightedAveragePrice.value.multiplied(by: down), try weightedAveragePrice.value.multiplied(by: up))
    }

    /// Passes when `low ≤ price ≤ high` for the side, as Binance evaluates it; otherwise
    /// `filterFailure` naming the filter, like `ExchangeFilters.validate`.
    public func validate(side: Side, price: Price, weightedAveragePrice: Price) throws(GordonError) {
        let (low, high) = try band(side: side, weightedAveragePrice: weightedAveragePrice)
        if price.value < low {
            throw failure("\(side) price below \(low)", side: side, price: price, weightedAveragePrice: weightedAveragePrice)
        }
        if price.value > high {
            throw failure("\(side) price above \(high)", side: side, price: price, weightedAveragePrice: weightedAveragePrice)
        }
    }

    /// The allowed price nearest to `price`, on the tick grid when `tickSize` is given (and
    /// positive). Like `ExchangeFilters.roundedPrice`, it never makes the limit worse for
    /// Gordon: a buy is never raised above what was asked and a sell never lowered below.
    /// So a buy above the band comes down to the highest tick inside it and a sell below
    /// the band goes up to the lowest; a buy below the band or a sell above it has no such
    /// price and is a `filterFailure`, as is a band too narrow to hold a tick.
    public func clamp(side: Side, price: Price, weightedAveragePrice: Price, tickSize: ExactDecimal?) throws(GordonError) -> Price {
        let (low, high) = try band(side: side, weightedAveragePrice: weightedAveragePrice)
        let tick = tickSize.flatMap { $0.isPositive ? $0 : nil }
        let candidate: ExactDecimal
        switch side {
        case .buy:
            let capped = min(price.value, high)
            candidate = try tick.map { tick throws(GordonError) in try capped.rounded(toMultipleOf: tick, rule: .towardNegativeInfinity) } ?? capped
        case .sell:
            let floored = max(price.value, low)
            candidate = try tick.map { tick throws(GordonError) in try floored.rounded(toMultipleOf: tick, rule: .towardPositiveInfinity) } ?? floored
        }
        guard candidate >= low, candidate <= high, candidate.isPositive else {
            let reason = side == .buy
                ? "no buy price at or below \(price) lies within [\(low), \(high)]"
                : "no sell price at or above \(price) lies within [\(low), \(high)]"
            throw failure(reason, side: side, price: price, weightedAveragePrice: weightedAveragePrice)
        }
        return try Price(candidate)
    }

    private func failure(_ detail: String, side: Side, price: Price, weightedAveragePrice: Price) -> GordonError {
        GordonError(.filterFailure, "Filter failure: PERCENT_PRICE_BY_SIDE: \(detail)",
                    context: ["filter": "PERCENT_PRICE_BY_SIDE", "side": side.rawValue, "price": price.description,
                              "weightedAveragePrice": weightedAveragePrice.description])
    }
}
