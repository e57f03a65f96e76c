public import GordonDomain
import GordonKernel

/// One trade against a bot's order, on `gordon.exec.fill.<bot>`. `trade_id` (unique per
/// symbol) is what makes applying fills idempotent downstream.
///
/// A wrapper around the domain `Fill`, so a decoded fill passed the domain's checks.
public struct FillEvent: EventPayload, Hashable {
    public static let eventType = "fill"

    public let fill: Fill
    /// The bot whose order traded; not part of the exchange's record, so carried beside it.
    public let botId: BotId

    public init(fill: Fill, botId: BotId) {
        self.fill = fill
        self.botId = botId
    }

    public var subject: Subject { .fill(botId) }

    enum CodingKeys: String, CodingKey {
        case tradeId = "trade_id"
        case clientOrderId = "client_order_id"
        case exchangeOrderId = "exchange_order_id"
        case botId = "bot_id"
        case symbol, side, price, quantity
        case quoteQuantity = "quote_quantity"
        case commission
        case commissionAsset = "commission_asset"
        case isMaker = "is_maker"
        case tradeTime = "trade_time"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let tradeId = try container.decodeInteger(Int64.self, forKey: .tradeId)
        let clientOrderId = try container.decode(ClientOrderId.self, forKey: .clientOrderId)
        let exchangeOrderId = try container.decodeInteger(Int64.self, forKey: .exchangeOrderId)
        botId = try container.decode(BotId.self, forKey: .botId)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let side = try container.decode(Side.self, forKey: .side)
        let price = try container.decode(Price.self, forKey: .price)
        let quantity = try container.decode(Quantity.self, forKey: .quantity)
        let quoteQuantity = try container.decode(ExactDecimal.self, forKey: .quoteQuantity)
        let commission = try container.decode(ExactDecimal.self, forKey: .commission)
        let commissionAsset = try container.decode(Asset.self, forKey: .commissionAsset)
        let isMaker = try container.decode(Bool.self, forKey: .isMaker)
        let tradeTime = try container.decodeTimestamp(forKey: .tradeTime)
        fill = try decoder.validating { () throws(GordonError) in
            try Fill(tradeId: tradeId, clientOrderId: clientOrderId, exchangeOrderId: exchangeOrderId, symbol: symbol,
                     side: side, price: price, quantity: quantity, quoteQuantity: quoteQuantity, commission: commission,
                     commissionAsset: commissionAsset, isMaker: isMaker, time: tradeTime)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(fill.tradeId, forKey: .tradeId)
        try container.encode(fill.clientOrderId, forKey: .clientOrderId)
        try container.encode(fill.exchangeOrderId, forKey: .exchangeOrderId)
        try container.encode(botId, forKey: .botId)
        try container.encode(fill.symbol, forKey: .symbol)
        try container.encode(fill.side, forKey: .side)
        try container.encode(fill.price, forKey: .price)
        try container.encode(fill.quantity, forKey: .quantity)
        try container.encode(fill.quoteQuantity, forKey: .quoteQuantity)
        try container.encode(fill.commission, forKey: .commission)
        try container.encode(fill.commissionAsset, forKey: .commissionAsset)
        try container.encode(fill.isMaker, forKey: .isMaker)
        try container.encode(fill.time, forKey: .tradeTime)
    }
}
