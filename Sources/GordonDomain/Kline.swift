public import GordonKernel

/// One candlestick, with Binance's fields (REST `/klines`, the `kline` stream, and the
/// public-data CSVs share them).
public struct Kline: Sendable, Hashable {
    public let symbol: Symbol
    public let interval: Interval
    public let openTime: Timestamp
    /// Binance's close time: the last millisecond of the kline, `next open − 1`.
    public let closeTime: Timestamp
    public let open: Price
    public let high: Price
    public let low: Price
    public let close: Price
    /// Base asset volume.
    public let volume: Quantity
    public let quoteVolume: ExactDecimal
    public let trades: Int
    public let takerBuyBaseVolume: ExactDecimal
    public let takerBuyQuoteVolume: ExactDecimal
    /// False while the kline is still forming (stream updates); true once final.
    public let isClosed: Bool

    /// Validates (`invalidKline`): `low ≤ open, close ≤ high`; `openTime` on the interval's
    /// grid and `closeTime` exactly its last millisecond (this catches second or microsecond
    /// timestamps, which Binance's public-data files use from 2025 on); non-negative
    /// volumes and trade count, with taker-buy volumes within the totals.
    public init(
        symbol: Symbol, interval: Interval, openTime: Timestamp, closeTime: Timestamp,
        open: Price, high: Price, low: Price, close: Price, volume: Quantity, quoteVolume: ExactDecimal,
        trades: Int, takerBuyBaseVolume: ExactDecimal, takerBuyQuoteVolume: ExactDecimal, isClosed: Bool
    ) throws(GordonError) {
        func invalid(_ message: String) -> GordonError {
            GordonError(.invalidKline, message,
                        context: ["symbol": symbol.rawValue, "interval": interval.rawValue, "openTime": "\(openTime.milliseconds)"])
        }
        guard low <= open, low <= close, low <= high else { throw invalid("low is above open, close or high") }
        guard high >= open, high >= close else { throw invalid("high is below open or close") }
        guard closeTime > openTime else { throw invalid("close time is not after open time") }
        guard interval.openTime(containing: openTime.milliseconds) == openTime.milliseconds else {
            throw invalid("open time is not on the \(interval.rawValue) grid")
        }
        guard closeTime.milliseconds == interval.closeTime(forOpenTime: openTime.milliseconds) else {
            throw invalid("close time is not the last millisecond of the \(interval.rawValue) kline")
        }
        guard trades >= 0 else { throw invalid("trade count is negative") }
        guard !quoteVolume.isNegative, !takerBuyBaseVolume.isNegative, !takerBuyQuoteVolume.isNegative else {
            throw invalid("volumes must not be negative")
        }
        guard takerBuyBaseVolume <= volume.value, takerBuyQuoteVolume <= quoteVolume else {
            throw invalid("taker buy volume exceeds total volume")
        }
        self.symbol = symbol
        self.interval = interval
        self.openTime = openTime
        self.closeTime = closeTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.quoteVolume = quoteVolume
        self.trades = trades
        self.takerBuyBaseVolume = takerBuyBaseVolume
        self.takerBuyQuoteVolume = takerBuyQuoteVolume
        self.isClosed = isClosed
    }
}

extension Kline: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let symbol = try container.decode(Symbol.self, forKey: .symbol)
        let interval = try container.decode(Interval.self, forKey: .interval)
        let openTime = try container.decode(Timestamp.self, forKey: .openTime)
        let closeTime = try container.decode(Timestamp.self, forKey: .closeTime)
        let open = try container.decode(Price.self, forKey: .open)
        let high = try container.decode(Price.self, forKey: .high)
        let low = try container.decode(Price.self, forKey: .low)
        let close = try container.decode(Price.self, forKey: .close)
        let volume = try container.decode(Quantity.self, forKey: .volume)
        let quoteVolume = try container.decode(ExactDecimal.self, forKey: .quoteVolume)
        let trades = try container.decode(Int.self, forKey: .trades)
        let takerBuyBaseVolume = try container.decode(ExactDecimal.self, forKey: .takerBuyBaseVolume)
        let takerBuyQuoteVolume = try container.decode(ExactDecimal.self, forKey: .takerBuyQuoteVolume)
        let isClosed = try container.decode(Bool.self, forKey: .isClosed)
        self = try decoder.validated { () throws(GordonError) in
            try Kline(symbol: symbol, interval: interval, openTime: openTime, closeTime: closeTime,
                      open: open, high: high, low: low, close: close, volume: volume, quoteVolume: quoteVolume,
                      trades: trades, takerBuyBaseVolume: takerBuyBaseVolume, takerBuyQuoteVolume: takerBuyQuoteVolume,
                      isClosed: isClosed)
        }
    }
}
