public import GordonKernel

/// A spot holding of one symbol's base asset, accounted at average cost.
///
/// Spot is long only: the quantity never goes below zero, and a sell of more than is held
/// means Gordon's books and the exchange disagree (`positionConflict`), never a short.
///
/// Commissions paid in the base or quote asset are part of the accounting, because they
/// change what is actually held or received: a buy whose fee is taken in the base asset
/// adds `quantity − fee`, a fee in the quote asset raises the cost basis of a buy or lowers
/// the proceeds of a sell. Fees in a third asset (BNB) belong to that asset's books and
/// are ignored here. `averageEntryPrice` is therefore the break-even price.
public struct Position: Sendable, Hashable {
    /// Decimal places kept for the average price and for the cost taken out by a partial
    /// sell; 16 is exact for every product of two 8-place Binance values.
    public static let accountingScale = 16

    public let symbol: Symbol
    public private(set) var quantity: Quantity
    /// Quote asset paid for the `quantity` held, fees included.
    public private(set) var costBasis: ExactDecimal
    /// `costBasis / quantity`, half-even at `accountingScale`; zero when flat.
    public private(set) var averageEntryPrice: Price
    /// Quote asset gained (positive) or lost by sells so far, fees included.
    public private(set) var realizedPnl: ExactDecimal

    /// A flat position.
    public init(symbol: Symbol) {
        self.symbol = symbol
        quantity = .zero
        costBasis = .zero
        averageEntryPrice = .zero
        realizedPnl = .zero
    }

    /// A position restored from its parts; the cost basis must be zero when flat and never
    /// negative (`positionConflict`).
    public init(symbol: Symbol, quantity: Quantity, costBasis: ExactDecimal, realizedPnl: ExactDecimal) throws(GordonError) {
        guard !costBasis.isNegative, !quantity.isZero || costBasis.isZero else {
            throw GordonError(.positionConflict, "cost basis must be non-negative, and zero when flat",
                              context: ["symbol": symbol.rawValue, "quantity": quantity.description, "costBasis": costBasis.description])
        }
        self.symbol = symbol
        self.quantity = quantity
        self.costBasis = costBasis
        self.realizedPnl = realizedPnl
        self.averageEntryPrice = try Position.average(costBasis, quantity)
    }

    /// A position restored from a quantity bought at an average price.
    public init(symbol: Symbol, quantity: Quantity, averageEntryPrice: Price, realizedPnl: ExactDecimal = .zero) throws(GordonError) {
        try self.init(symbol: symbol, quantity: quantity, costBasis: try quantity.notional(at: averageEntryPrice), realizedPnl: realizedPnl)
    }

    public var isFlat: Bool { quantity.isZero }

    /// Books one fill. On any error the position is unchanged.
    ///
    /// A sell takes out cost in proportion to the quantity sold (all of it when the sell
    /// closes the position), so a round trip realizes exactly proceeds minus cost.
    public mutating func apply(_ fill: Fill) throws(GordonError) {
        guard fill.symbol == symbol else {
            throw conflict("fill is for another symbol", fill)
        }
        if symbol.base == nil, !fill.commission.isZero {
            // Without knowing the base asset the fee might be in it, and the held quantity
            // would silently overstate what the exchange holds.
            throw conflict("cannot attribute the commission of a fill for a symbol with an unknown quote asset", fill)
        }
        let feeInBase = fill.commissionAsset == symbol.base ? fill.commission : .zero
        let feeInQuote = fill.commissionAsset == symbol.quote ? fill.commission : .zero
        switch fill.side {
        case .buy:
            let received = try fill.quantity.value.subtracting(feeInBase)
            guard received.isPositive else {
                throw GordonError(.invalidFill, "commission consumes the whole bought quantity",
                                  context: ["tradeId": "\(fill.tradeId)", "symbol": symbol.rawValue])
            }
            let newQuantity = try quantity.adding(Quantity(received))
            let newCost = try costBasis.adding(fill.quoteQuantity.adding(feeInQuote))
            let newAverage = try Position.average(newCost, newQuantity)
            quantity = newQuantity
            costBasis = newCost
            averageEntryPrice = newAverage
        case .sell:
            let sold = try fill.quantity.adding(Quantity(feeInBase))
            guard sold <= quantity else {
                throw conflict("sell of \(sold) exceeds the \(quantity) held", fill)
            }
            let newQuantity = try quantity.subtracting(sold)
            let removedCost = newQuantity.isZero
                ? costBasis
                : try costBasis.multiplied(by: sold.value)
                    .divided(by: quantity.value, scale: Position.accountingScale, rounding: .halfEven)
            let proceeds = try fill.quoteQuantity.subtracting(feeInQuote)
            let newRealized = try realizedPnl.adding(proceeds.subtracting(removedCost))
            let newCost = try costBasis.subtracting(removedCost)
            let newAverage = try Position.average(newCost, newQuantity)
            quantity = newQuantity
            costBasis = newCost
            realizedPnl = newRealized
            averageEntryPrice = newAverage
        }
    }

    private static func average(_ cost: ExactDecimal, _ quantity: Quantity) throws(GordonError) -> Price {
        guard !quantity.isZero else { return .zero }
        return try Price(cost.divided(by: quantity.value, scale: accountingScale, rounding: .halfEven))
    }

    private func conflict(_ message: String, _ fill: Fill) -> GordonError {
        GordonError(.positionConflict, message,
                    context: ["symbol": symbol.rawValue, "fillSymbol": fill.symbol.rawValue, "tradeId": "\(fill.tradeId)"])
    }
}

extension Position: Codable {
    private enum CodingKeys: String, CodingKey {
        case symbol, quantity, costBasis, averageEntryPrice, realizedPnl
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        let costBasis = try container.decode(ExactDecimal.self, forKey: .costBasis)
        let realizedPnl = try container.decode(ExactDecimal.self, forKey: .realizedPnl)
        // averageEntryPrice is derived; it is written for readers and recomputed on reading.
        self = try decoder.validated { () throws(GordonError) in
            try Position(symbol: symbol, quantity: quantity, costBasis: costBasis, realizedPnl: realizedPnl)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(symbol, forKey: .symbol)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(costBasis, forKey: .costBasis)
        try container.encode(averageEntryPrice, forKey: .averageEntryPrice)
        try container.encode(realizedPnl, forKey: .realizedPnl)
    }
}
