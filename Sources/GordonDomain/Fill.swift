public import GordonKernel

/// One trade against one of Gordon's orders, as the exchange booked it.
public struct Fill: Sendable, Hashable {
    /// Binance's trade id, unique per symbol: the key that makes fill handling idempotent.
    public let tradeId: Int64
    public let clientOrderId: ClientOrderId
    public let exchangeOrderId: Int64
    public let symbol: Symbol
    public let side: Side
    public let price: Price
    public let quantity: Quantity
    /// The quote amount the exchange booked for this trade.
    public let quoteQuantity: ExactDecimal
    public let commission: ExactDecimal
    public let commissionAsset: Asset
    public let isMaker: Bool
    public let time: Timestamp

    /// Requires non-negative ids, a positive price and quantity, and a non-negative quote
    /// quantity and commission (`invalidFill`).
    public init(
        tradeId: Int64, clientOrderId: ClientOrderId, exchangeOrderId: Int64, symbol: Symbol, side: Side,
        price: Price, quantity: Quantity, quoteQuantity: ExactDecimal, commission: ExactDecimal,
        commissionAsset: Asset, isMaker: Bool, time: Timestamp
    ) throws(GordonError) {
        func invalid(_ message: String) -> GordonError {
            GordonError(.invalidFill, message, context: ["tradeId": "\(tradeId)", "clientOrderId": clientOrderId.rawValue])
        }
        guard tradeId >= 0, exchangeOrderId >= 0 else { throw invalid("trade and order ids must not be negative") }
        guard !price.isZero else { throw invalid("fill price must be positive") }
        guard !quantity.isZero else { throw invalid("fill quantity must be positive") }
        guard !quoteQuantity.isNegative else { throw invalid("fill quote quantity must not be negative") }
        guard !commission.isNegative else { throw invalid("commission must not be negative") }
        self.tradeId = tradeId
        self.clientOrderId = clientOrderId
        self.exchangeOrderId = exchangeOrderId
        self.symbol = symbol
        self.side = side
        self.price = price
        self.quantity = quantity
        self.quoteQuantity = quoteQuantity
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.isMaker = isMaker
        self.time = time
    }
}

extension Fill: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let tradeId = try container.decode(Int64.self, forKey: .tradeId)
        let clientOrderId = try container.decode(ClientOrderId.self, forKey: .clientOrderId)
        let exchangeOrderId = try container.decode(Int64.self, forKey: .exchangeOrderId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let price = try container.decode(Price.self, forKey: .price)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        let quoteQuantity = try container.decode(ExactDecimal.self, forKey: .quoteQuantity)
        let commission = try container.decode(ExactDecimal.self, forKey: .commission)
        let commissionAsset = try container.decode(Asset.self, forKey: .commissionAsset)
        let isMaker = try container.decode(Bool.self, forKey: .isMaker)
        let time = try container.decode(Timestamp.self, forKey: .time)
        self = try decoder.validated { () throws(GordonError) in
            try Fill(tradeId: tradeId, clientOrderId: clientOrderId, exchangeOrderId: exchangeOrderId, symbol: symbol,
                     side: side, price: price, quantity: quantity, quoteQuantity: quoteQuantity,
                     commission: commission, commissionAsset: commissionAsset, isMaker: isMaker, time: time)
        }
    }
}
