import GordonDomain

/// One price level: `quantity` of the base asset offered at `price`.
struct PriceLevel: Sendable, Hashable {
    let price: ExactDecimal
    let quantity: ExactDecimal
}

/// The simulated counterparty: a book rebuilt from the last price P on every request.
///
/// Best ask is P rounded up to the tick (a trade at P means someone sold at P, so asks start
/// there), best bid one tick below, `depthLevels` levels per side one tick apart, each with
/// `levelQuantity`. Liquidity is not consumed: each order sees the full book again, which
/// keeps the simulator stateless about other market participants. Bid levels stop before
/// reaching zero.
struct SyntheticBook: Sendable {
    /// Best first (ascending).
    let asks: [PriceLevel]
    /// Best first (descending).
    let bids: [PriceLevel]

    init(spec: SimSymbolSpec, lastPrice: ExactDecimal) {
        let tick = spec.tick
        let bestAsk = Self.ceiling(lastPrice, tick: tick)
        let levels = max(0, spec.depthLevels)
        var asks: [PriceLevel] = []
        var bids: [PriceLevel] = []
        asks.reserveCapacity(levels)
        bids.reserveCapacity(levels)
        var ask = bestAsk
        var bid = bestAsk - tick
        for _ in 0..<levels {
            asks.append(PriceLevel(price: ask, quantity: spec.levelQuantity))
            if bid.isPositive { bids.append(PriceLevel(price: bid, quantity: spec.levelQuantity)) }
            ask += tick
            bid -= tick
        }
        self.asks = asks
        self.bids = bids
    }

    /// The side a taker of `side` trades against.
    func levels(against side: Side) -> [PriceLevel] {
        side == .buy ? asks : bids
    }

    var bestAsk: PriceLevel? { asks.first }
    var bestBid: PriceLevel? { bids.first }

    /// Whether an order at `price` would trade on arrival (what LIMIT_MAKER must not do).
    func crosses(side: Side, price: ExactDecimal) -> Bool {
        switch side {
        case .buy: bestAsk.map { price >= $0.price } ?? false
        case .sell: bestBid.map { price <= $0.price } ?? false
        }
    }

    /// P on the tick grid, rounding up; a price too large to round stays as it is.
    private static func ceiling(_ price: ExactDecimal, tick: ExactDecimal) -> ExactDecimal {
        (try? price.rounded(toMultipleOf: tick, rule: .towardPositiveInfinity)) ?? price
    }
}
