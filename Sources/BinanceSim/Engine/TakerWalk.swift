import GordonDomain

/// How much an incoming order wants: base quantity, or (MARKET `quoteOrderQty`) a quote amount.
enum OrderSize: Sendable, Hashable {
    case base(ExactDecimal)
    case quote(ExactDecimal)
}

/// One fill planned before anything changes, so an order that cannot be paid for is
/// rejected whole.
struct PlannedFill: Sendable, Hashable {
    let price: ExactDecimal
    let quantity: ExactDecimal
    var quoteQuantity: ExactDecimal { price * quantity }
}

/// The fills a taker gets by walking the book best level first, as Binance's matching engine
/// fills a MARKET order or the crossing part of a LIMIT order: successive prices, each level
/// taken up to its quantity.
struct TakerWalk: Sendable {
    private(set) var fills: [PlannedFill] = []
    /// For a quote-sized order: the quote amount the walk could not use.
    private(set) var unusedQuote: ExactDecimal = .zero
    /// True when the levels ran out (or the limit price stopped the walk) while the order
    /// still wanted more: a MARKET order then ends EXPIRED, as Binance's do when liquidity
    /// is exhausted.
    private(set) var isIncomplete = false

    var quantity: ExactDecimal { fills.reduce(.zero) { $0 + $1.quantity } }
    var quoteQuantity: ExactDecimal { fills.reduce(.zero) { $0 + $1.quoteQuantity } }

    /// Walks `levels` (best first) for `size`. `limit` stops the walk at the first level
    /// worse than the limit price (above it for a BUY, below it for a SELL). A quote size
    /// takes at each level the most whole `step`s the remaining quote pays for, rounding
    /// down, so the order never spends (or asks to receive) more than `quoteOrderQty` and
    /// every quantity respects LOT_SIZE (rest-api.md: "will not break LOT_SIZE filter rules").
    init(levels: [PriceLevel], side: Side, size: OrderSize, limit: ExactDecimal?, step: ExactDecimal) {
        var remainingBase: ExactDecimal
        var remainingQuote: ExactDecimal
        switch size {
        case .base(let quantity): (remainingBase, remainingQuote) = (quantity, .zero)
        case .quote(let amount): (remainingBase, remainingQuote) = (.zero, amount)
        }
        func wantsMore(at price: ExactDecimal) -> Bool {
            switch size {
            case .base: remainingBase.isPositive
            case .quote: Self.wholeSteps(of: remainingQuote, at: price, step: step).isPositive
            }
        }
        var lastPrice: ExactDecimal?
        for level in levels {
            if let limit, side == .buy ? level.price > limit : level.price < limit { break }
            lastPrice = level.price
            let wanted: ExactDecimal
            switch size {
            case .base: wanted = remainingBase
            case .quote: wanted = Self.wholeSteps(of: remainingQuote, at: level.price, step: step)
            }
            let taken = min(wanted, level.quantity)
            guard taken.isPositive else {
                if wanted.isZero { break }
                continue
            }
            fills.append(PlannedFill(price: level.price, quantity: taken))
            remainingBase -= min(taken, remainingBase)
            remainingQuote -= min(level.price * taken, remainingQuote)
            if case .base = size, remainingBase.isZero { break }
        }
        unusedQuote = remainingQuote
        if let price = lastPrice ?? levels.first?.price {
            isIncomplete = wantsMore(at: price)
        } else {
            // No level at all: nothing could fill.
            isIncomplete = true
        }
    }

    /// The most whole steps of base `quote` buys at `price`, rounded down.
    static func wholeSteps(of quote: ExactDecimal, at price: ExactDecimal, step: ExactDecimal) -> ExactDecimal {
        guard quote.isPositive, price.isPositive else { return .zero }
        guard let exact = try? quote.divided(by: price, scale: min(step.scale, ExactDecimal.maxScale), rounding: .down),
              let whole = try? exact.rounded(toMultipleOf: step, rule: .down)
        else { return .zero }
        return whole
    }
}
