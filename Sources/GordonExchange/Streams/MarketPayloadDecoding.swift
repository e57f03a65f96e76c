import GordonDomain
import GordonKernel

/// Readers for market stream payloads (the raw `{"e":…}` objects), one per event type.
/// Unknown fields are skipped: Binance adds fields without notice. Repeated fields: the last wins.
extension StreamJSONScanner {
    /// Reads the payload object at the current position, choosing the reader by its `"e"`
    /// (book ticker payloads have none).
    mutating func marketPayload() throws(StreamDecodingFailure) -> MarketStreamEvent {
        skipWhitespace()
        let eventType: String?
        if let typeAt = try findMember("e", inObjectAt: position) {
            var typeReader = StreamJSONScanner(bytes, position: typeAt)
            eventType = try typeReader.string("e")
        } else {
            eventType = nil
        }
        let name = eventType ?? "bookTicker"
        do {
            switch eventType {
            case "kline": return .kline(try klineUpdate())
            case "aggTrade": return .aggTrade(try aggregateTrade())
            case nil: return .bookTicker(try bookTicker())
            case "serverShutdown": return .serverShutdown(eventTime: try eventTimeOnly())
            default: break
            }
        } catch {
            throw error.prefixed("\(name) event: ")
        }
        throw failure("unsupported market event type \(StreamDecodingFailure.quoted(name))")
    }

    mutating func klineUpdate() throws(StreamDecodingFailure) -> KlineUpdate {
        var eventTime: Timestamp?
        var outerSymbol: Symbol?
        var body: (kline: Kline, firstTradeId: Int64, lastTradeId: Int64)?
        var cursor = try enterObject("the kline event")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "E"): eventTime = try timestamp("E")
            case UInt8(ascii: "s"): outerSymbol = try symbol("s", reusing: body?.kline.symbol)
            case UInt8(ascii: "k"): body = try klineBody(knownSymbol: outerSymbol)
            default: try skipValue()
            }
        }
        let (kline, firstTradeId, lastTradeId) = try required(body, "k")
        if let outerSymbol, outerSymbol != kline.symbol {
            throw StreamDecodingFailure("field \"s\" (\(outerSymbol)) differs from \"k.s\" (\(kline.symbol))")
        }
        return KlineUpdate(eventTime: try required(eventTime, "E"), kline: kline, firstTradeId: firstTradeId, lastTradeId: lastTradeId)
    }

    /// The `"k"` object, validated as a `Kline` (price order, open time on the grid, …).
    private mutating func klineBody(knownSymbol: Symbol?) throws(StreamDecodingFailure) -> (kline: Kline, firstTradeId: Int64, lastTradeId: Int64) {
        var openTime: Timestamp?, closeTime: Timestamp?
        var symbol: Symbol?, interval: Interval?
        var firstTradeId: Int64?, lastTradeId: Int64?
        var open: Price?, close: Price?, high: Price?, low: Price?
        var volume: Quantity?, quoteVolume: ExactDecimal?
        var takerBuyBaseVolume: ExactDecimal?, takerBuyQuoteVolume: ExactDecimal?
        var trades: Int64?, isClosed: Bool?
        let start = position
        var cursor = try enterObject("\"k\"")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "t"): openTime = try timestamp("k.t")
            case UInt8(ascii: "T"): closeTime = try timestamp("k.T")
            case UInt8(ascii: "s"): symbol = try self.symbol("k.s", reusing: knownSymbol)
            case UInt8(ascii: "i"): interval = try enumValue(Interval.self, "k.i")
            case UInt8(ascii: "f"): firstTradeId = try int64("k.f")
            case UInt8(ascii: "L"): lastTradeId = try int64("k.L")
            case UInt8(ascii: "o"): open = try price("k.o")
            case UInt8(ascii: "c"): close = try price("k.c")
            case UInt8(ascii: "h"): high = try price("k.h")
            case UInt8(ascii: "l"): low = try price("k.l")
            case UInt8(ascii: "v"): volume = try quantity("k.v")
            case UInt8(ascii: "n"): trades = try int64("k.n")
            case UInt8(ascii: "x"): isClosed = try bool("k.x")
            case UInt8(ascii: "q"): quoteVolume = try decimal("k.q")
            case UInt8(ascii: "V"): takerBuyBaseVolume = try decimal("k.V")
            case UInt8(ascii: "Q"): takerBuyQuoteVolume = try decimal("k.Q")
            default: try skipValue()
            }
        }
        let fields = (symbol: try required(symbol, "k.s"), interval: try required(interval, "k.i"),
                      openTime: try required(openTime, "k.t"), closeTime: try required(closeTime, "k.T"),
                      open: try required(open, "k.o"), high: try required(high, "k.h"), low: try required(low, "k.l"),
                      close: try required(close, "k.c"), volume: try required(volume, "k.v"),
                      quoteVolume: try required(quoteVolume, "k.q"), trades: try required(trades, "k.n"),
                      takerBuyBaseVolume: try required(takerBuyBaseVolume, "k.V"),
                      takerBuyQuoteVolume: try required(takerBuyQuoteVolume, "k.Q"), isClosed: try required(isClosed, "k.x"))
        guard let trades = Int(exactly: fields.trades) else { throw StreamDecodingFailure("field \"k.n\": trade count out of range") }
        let kline: Kline
        do {
            kline = try Kline(
                symbol: fields.symbol, interval: fields.interval, openTime: fields.openTime, closeTime: fields.closeTime,
                open: fields.open, high: fields.high, low: fields.low, close: fields.close, volume: fields.volume,
                quoteVolume: fields.quoteVolume, trades: trades, takerBuyBaseVolume: fields.takerBuyBaseVolume,
                takerBuyQuoteVolume: fields.takerBuyQuoteVolume, isClosed: fields.isClosed)
        } catch {
            throw StreamDecodingFailure("kline rejected: \(error.message)", offset: start, underlying: error)
        }
        return (kline, try required(firstTradeId, "k.f"), try required(lastTradeId, "k.L"))
    }

    mutating func aggregateTrade() throws(StreamDecodingFailure) -> AggregateTrade {
        var eventTime: Timestamp?, symbol: Symbol?, aggregateTradeId: Int64?
        var price: Price?, quantity: Quantity?
        var firstTradeId: Int64?, lastTradeId: Int64?, tradeTime: Timestamp?, buyerIsMaker: Bool?
        var cursor = try enterObject("the aggTrade event")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "E"): eventTime = try timestamp("E")
            case UInt8(ascii: "s"): symbol = try self.symbol("s")
            case UInt8(ascii: "a"): aggregateTradeId = try int64("a")
            case UInt8(ascii: "p"): price = try self.price("p")
            case UInt8(ascii: "q"): quantity = try self.quantity("q")
            case UInt8(ascii: "f"): firstTradeId = try int64("f")
            case UInt8(ascii: "l"): lastTradeId = try int64("l")
            case UInt8(ascii: "T"): tradeTime = try timestamp("T")
            case UInt8(ascii: "m"): buyerIsMaker = try bool("m")
            default: try skipValue()
            }
        }
        return AggregateTrade(
            eventTime: try required(eventTime, "E"), symbol: try required(symbol, "s"),
            aggregateTradeId: try required(aggregateTradeId, "a"), price: try required(price, "p"),
            quantity: try required(quantity, "q"), firstTradeId: try required(firstTradeId, "f"),
            lastTradeId: try required(lastTradeId, "l"), tradeTime: try required(tradeTime, "T"),
            buyerIsMaker: try required(buyerIsMaker, "m"))
    }

    mutating func bookTicker() throws(StreamDecodingFailure) -> BookTicker {
        var updateId: Int64?, symbol: Symbol?
        var bidPrice: Price?, bidQuantity: Quantity?, askPrice: Price?, askQuantity: Quantity?
        var cursor = try enterObject("the bookTicker event")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "u"): updateId = try int64("u")
            case UInt8(ascii: "s"): symbol = try self.symbol("s")
            case UInt8(ascii: "b"): bidPrice = try price("b")
            case UInt8(ascii: "B"): bidQuantity = try quantity("B")
            case UInt8(ascii: "a"): askPrice = try price("a")
            case UInt8(ascii: "A"): askQuantity = try quantity("A")
            default: try skipValue()
            }
        }
        return BookTicker(
            updateId: try required(updateId, "u"), symbol: try required(symbol, "s"),
            bidPrice: try required(bidPrice, "b"), bidQuantity: try required(bidQuantity, "B"),
            askPrice: try required(askPrice, "a"), askQuantity: try required(askQuantity, "A"))
    }

    /// An event whose only field of interest is `"E"` (serverShutdown, listenKeyExpired, …).
    mutating func eventTimeOnly() throws(StreamDecodingFailure) -> Timestamp {
        var eventTime: Timestamp?
        var cursor = try enterObject("the event")
        while let key = try nextKey(&cursor) {
            if letter(key) == UInt8(ascii: "E") { eventTime = try timestamp("E") } else { try skipValue() }
        }
        return try required(eventTime, "E")
    }
}
