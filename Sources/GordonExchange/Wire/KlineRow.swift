public import GordonKernel
public import GordonDomain

/// One element of GET /api/v3/klines: a 12-element JSON array
/// `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades,
/// "takerBuyBase", "takerBuyQuote", "ignore"]`. The decimals stay as Binance's text so the
/// simulator writes exactly what it was given.
public struct KlineRow: Codable, Sendable, Hashable {
    public var openTime: Int64
    public var open: String
    public var high: String
    public var low: String
    public var close: String
    public var volume: String
    public var closeTime: Int64
    public var quoteVolume: String
    public var trades: Int
    public var takerBuyBaseVolume: String
    public var takerBuyQuoteVolume: String
    /// Binance's unused twelfth element, `"0"`.
    public var ignore: String

    public init(openTime: Int64, open: String, high: String, low: String, close: String, volume: String, closeTime: Int64,
                quoteVolume: String, trades: Int, takerBuyBaseVolume: String, takerBuyQuoteVolume: String, ignore: String = "0") {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.closeTime = closeTime
        self.quoteVolume = quoteVolume
        self.trades = trades
        self.takerBuyBaseVolume = takerBuyBaseVolume
        self.takerBuyQuoteVolume = takerBuyQuoteVolume
        self.ignore = ignore
    }

    public init(from decoder: any Decoder) throws {
        var row = try decoder.unkeyedContainer()
        openTime = try row.decode(Int64.self)
        open = try row.decode(String.self)
        high = try row.decode(String.self)
        low = try row.decode(String.self)
        close = try row.decode(String.self)
        volume = try row.decode(String.self)
        closeTime = try row.decode(Int64.self)
        quoteVolume = try row.decode(String.self)
        trades = try row.decode(Int.self)
        takerBuyBaseVolume = try row.decode(String.self)
        takerBuyQuoteVolume = try row.decode(String.self)
        // The unused field is documented as "0"; whatever Binance puts there is not read.
        ignore = (try? row.decode(String.self)) ?? "0"
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.unkeyedContainer()
        try row.encode(openTime)
        try row.encode(open)
        try row.encode(high)
        try row.encode(low)
        try row.encode(close)
        try row.encode(volume)
        try row.encode(closeTime)
        try row.encode(quoteVolume)
        try row.encode(trades)
        try row.encode(takerBuyBaseVolume)
        try row.encode(takerBuyQuoteVolume)
        try row.encode(ignore)
    }
}

extension KlineRow {
    /// The domain kline; REST returns the still-forming last kline too, so the caller says
    /// whether this one is closed (its `closeTime` has passed on the server's clock).
    public func kline(symbol: Symbol, interval: Interval, isClosed: Bool) throws(GordonError) -> Kline {
        let open = try WireMapping.field("open") { () throws(GordonError) in try Price(parsing: self.open) }
        let high = try WireMapping.field("high") { () throws(GordonError) in try Price(parsing: self.high) }
        let low = try WireMapping.field("low") { () throws(GordonError) in try Price(parsing: self.low) }
        let close = try WireMapping.field("close") { () throws(GordonError) in try Price(parsing: self.close) }
        let volume = try WireMapping.field("volume") { () throws(GordonError) in try Quantity(parsing: self.volume) }
        let quoteVolume = try BinanceDecimal.parse(self.quoteVolume, field: "quoteVolume")
        let takerBase = try BinanceDecimal.parse(takerBuyBaseVolume, field: "takerBuyBaseVolume")
        let takerQuote = try BinanceDecimal.parse(takerBuyQuoteVolume, field: "takerBuyQuoteVolume")
        return try WireMapping.value("kline") { () throws(GordonError) in
            try Kline(symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: openTime),
                      closeTime: Timestamp(milliseconds: closeTime), open: open, high: high, low: low, close: close,
                      volume: volume, quoteVolume: quoteVolume, trades: trades, takerBuyBaseVolume: takerBase,
                      takerBuyQuoteVolume: takerQuote, isClosed: isClosed)
        }
    }

    /// The row Binance would send for `kline`, decimals printed with `decimals` places.
    public init(_ kline: Kline, decimals: Int) {
        func text(_ value: ExactDecimal) -> String { BinanceDecimal.format(value, places: decimals) }
        self.init(openTime: kline.openTime.milliseconds, open: text(kline.open.value), high: text(kline.high.value),
                  low: text(kline.low.value), close: text(kline.close.value), volume: text(kline.volume.value),
                  closeTime: kline.closeTime.milliseconds, quoteVolume: text(kline.quoteVolume), trades: kline.trades,
                  takerBuyBaseVolume: text(kline.takerBuyBaseVolume), takerBuyQuoteVolume: text(kline.takerBuyQuoteVolume))
    }
}
