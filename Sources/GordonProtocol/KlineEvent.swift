public import GordonDomain
import GordonKernel

/// One kline from gordon-data, on `gordon.market.kline.<SYMBOL>.<interval>`: a forming
/// kline (`is_closed` false) on each stream update, then the final one.
///
/// A wrapper around the domain `Kline`, so an event that decodes is a kline that passed all
/// of the domain's checks (price order, interval grid, volumes); the wire keys are this
/// type's own and do not follow the domain type's Swift names.
public struct KlineEvent: EventPayload, Hashable {
    public static let eventType = "kline"

    public let kline: Kline

    public init(_ kline: Kline) {
        self.kline = kline
    }

    public var subject: Subject { .kline(kline.symbol, kline.interval) }

    enum CodingKeys: String, CodingKey {
        case symbol, interval
        case openTime = "open_time"
        case closeTime = "close_time"
        case open, high, low, close, volume
        case quoteVolume = "quote_volume"
        case trades
        case takerBuyBaseVolume = "taker_buy_base_volume"
        case takerBuyQuoteVolume = "taker_buy_quote_volume"
        case isClosed = "is_closed"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let interval = try container.decode(Interval.self, forKey: .interval)
        let openTime = try container.decodeTimestamp(forKey: .openTime)
        let closeTime = try container.decodeTimestamp(forKey: .closeTime)
        let open = try container.decode(Price.self, forKey: .open)
        let high = try container.decode(Price.self, forKey: .high)
        let low = try container.decode(Price.self, forKey: .low)
        let close = try container.decode(Price.self, forKey: .close)
        let volume = try container.decode(Quantity.self, forKey: .volume)
        let quoteVolume = try container.decode(ExactDecimal.self, forKey: .quoteVolume)
        let trades = try container.decodeInteger(Int.self, forKey: .trades)
        let takerBuyBaseVolume = try container.decode(ExactDecimal.self, forKey: .takerBuyBaseVolume)
        let takerBuyQuoteVolume = try container.decode(ExactDecimal.self, forKey: .takerBuyQuoteVolume)
        let isClosed = try container.decode(Bool.self, forKey: .isClosed)
        kline = try decoder.validating { () throws(GordonError) in
            try Kline(symbol: symbol, interval: interval, openTime: openTime, closeTime: closeTime,
                      open: open, high: high, low: low, close: close, volume: volume, quoteVolume: quoteVolume,
                      trades: trades, takerBuyBaseVolume: takerBuyBaseVolume, takerBuyQuoteVolume: takerBuyQuoteVolume,
                      isClosed: isClosed)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kline.symbol, forKey: .symbol)
        try container.encode(kline.interval, forKey: .interval)
        try container.encode(kline.openTime, forKey: .openTime)
        try container.encode(kline.closeTime, forKey: .closeTime)
        try container.encode(kline.open, forKey: .open)
        try container.encode(kline.high, forKey: .high)
        try container.encode(kline.low, forKey: .low)
        try container.encode(kline.close, forKey: .close)
        try container.encode(kline.volume, forKey: .volume)
        try container.encode(kline.quoteVolume, forKey: .quoteVolume)
        try container.encode(kline.trades, forKey: .trades)
        try container.encode(kline.takerBuyBaseVolume, forKey: .takerBuyBaseVolume)
        try container.encode(kline.takerBuyQuoteVolume, forKey: .takerBuyQuoteVolume)
        try container.encode(kline.isClosed, forKey: .isClosed)
    }
}
