public import GordonDomain
public import GordonKernel

/// What the bots hold and what it is worth, as gordon-risk values it: each bot's allocation,
/// plus its realised profit, plus its position at the last closed kline's price.
///
/// Deposits and withdrawals are not trading results, so equity is counted from the
/// allocations rather than from the account's balances: a withdrawal is no drawdown.
public struct Portfolio: Sendable, Equatable {
    public struct Holding: Sendable, Equatable {
        public var quantity: ExactDecimal
        public var averageEntryPrice: ExactDecimal
        public var realisedProfit: ExactDecimal

        public init(quantity: ExactDecimal, averageEntryPrice: ExactDecimal, realisedProfit: ExactDecimal) {
            self.quantity = quantity
            self.averageEntryPrice = averageEntryPrice
            self.realisedProfit = realisedProfit
        }
    }

    public struct Key: Sendable, Hashable {
        public let bot: BotId
        public let symbol: Symbol

        public init(bot: BotId, symbol: Symbol) {
            self.bot = bot
            self.symbol = symbol
        }
    }

    public private(set) var allocations: [BotId: ExactDecimal] = [:]
    public private(set) var holdings: [Key: Holding] = [:]
    public private(set) var lastPrices: [Symbol: ExactDecimal] = [:]

    public init() {}

    public mutating func setAllocation(_ amount: ExactDecimal, of bot: BotId) { allocations[bot] = amount }

    /// Every bot's allocation together: the capital the equity starts from.
    public func totalAllocation() throws(GordonError) -> ExactDecimal {
        var total = ExactDecimal.zero
        for amount in allocations.values { total = try total.adding(amount) }
        return total
    }

    /// The bots' positions as the executor recorded them; replaces what was known.
    public mutating func replaceHoldings(_ holdings: [Key: Holding]) { self.holdings = holdings }

    public mutating func priceClosed(_ symbol: Symbol, at price: ExactDecimal) {
        guard price.isPositive else { return }
        lastPrices[symbol] = price
    }

    /// Symbols held without a price yet: their value is unknown.
    public var unpricedSymbols: Set<Symbol> {
        Set(holdings.filter { !$0.value.quantity.isZero && lastPrices[$0.key.symbol] == nil }.map(\.key.symbol))
    }

    /// Nil while a held symbol has no price: a guess could trip a breaker, or hide a loss.
    public func equity() throws(GordonError) -> ExactDecimal? {
        guard unpricedSymbols.isEmpty else { return nil }
        var total = try totalAllocation()
        for (key, holding) in holdings {
            total = try total.adding(holding.realisedProfit)
            guard !holding.quantity.isZero, let price = lastPrices[key.symbol] else { continue }
            let unrealised = try holding.quantity.multiplied(by: try price.subtracting(holding.averageEntryPrice))
            total = try total.adding(unrealised)
        }
        return total
    }

    /// Every position at its last price (at its entry price while it has none: exposure is
    /// never reported lower for want of a price).
    public func grossExposure() throws(GordonError) -> ExactDecimal {
        var total = ExactDecimal.zero
        for (key, holding) in holdings where !holding.quantity.isZero {
            let price = lastPrices[key.symbol] ?? holding.averageEntryPrice
            total = try total.adding(try holding.quantity.abs.multiplied(by: price))
        }
        return total
    }
}
