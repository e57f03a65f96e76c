public import GordonDomain
public import GordonKernel

/// A bot's long-only spot position in one symbol, moved by its fills: what `trading.positions`
/// holds. A plain value, so the accounting is tested without a database.
///
/// A buy adds what it received (less a commission taken in the base asset) at its cost (plus
/// a commission taken in the quote asset); a sell realises the difference between what it
/// received (less a quote commission) and the average cost of what it sold. Commissions in a
/// third asset (BNB) are not valued here: they change neither the quantity nor the cost.
public struct PositionBook: Sendable, Equatable {
    public var quantity: ExactDecimal
    public var averageEntryPrice: ExactDecimal
    public var realizedProfit: ExactDecimal

    public init(quantity: ExactDecimal = .zero, averageEntryPrice: ExactDecimal = .zero, realizedProfit: ExactDecimal = .zero) {
        self.quantity = quantity
        self.averageEntryPrice = averageEntryPrice
        self.realizedProfit = realizedProfit
    }

    /// Decimal places kept for the average price and the realised profit.
    static let scale = 8

    public mutating func apply(_ fill: Fill) throws(GordonError) {
        guard let base = fill.symbol.base, let quote = fill.symbol.quote else {
            throw GordonError(.invalidFill, "\(fill.symbol) does not split into base and quote assets")
        }
        let baseCommission = fill.commissionAsset == base ? fill.commission : .zero
        let quoteCommission = fill.commissionAsset == quote ? fill.commission : .zero
        switch fill.side {
        case .buy:
            let received = try fill.quantity.value.subtracting(baseCommission)
            let held = try quantity.adding(received)
            guard held.isPositive else { return }
            let cost = try quantity.multiplied(by: averageEntryPrice).adding(fill.quoteQuantity).adding(quoteCommission)
            averageEntryPrice = try cost.divided(by: held, scale: Self.scale, rounding: .halfEven)
            quantity = held
        case .sell:
            let proceeds = try fill.quoteQuantity.subtracting(quoteCommission)
            let basis = try fill.quantity.value.multiplied(by: averageEntryPrice)
            realizedProfit = try realizedProfit.adding(proceeds.subtracting(basis).rounded(scale: Self.scale, rule: .halfEven))
            // Selling more than the book holds (a position opened by hand) leaves it flat.
            quantity = max(.zero, try quantity.subtracting(fill.quantity.value).subtracting(baseCommission))
            if quantity.isZero { averageEntryPrice = .zero }
        }
    }
}
