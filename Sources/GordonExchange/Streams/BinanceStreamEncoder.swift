public import GordonDomain

/// How a user data event is framed on the wire.
public enum UserDataFraming: Sendable, Hashable {
    /// The bare event, as on `/ws/<listenKey>`.
    case raw
    /// `{"subscriptionId":N,"event":{…}}`, as on the WebSocket API.
    case subscription(id: Int64)
    /// `{"stream":"<listenKey>","data":{…}}`, as on `/stream?streams=<listenKey>`.
    case combined(streamName: String)
}

/// Encodes stream events exactly as Binance sends them: the same keys in the same order,
/// compact JSON, amounts as strings with a fixed number of places (`decimals`, or more when a
/// value needs more). BinanceSim emits these, so Gordon's client sees Binance's shape.
/// `BinanceStreamDecoder` reads every output back to an equal value.
public enum BinanceStreamEncoder {
    /// A kline event; `combined` wraps it as `{"stream":"<symbol>@kline_<interval>","data":…}`.
    public static func kline(_ update: KlineUpdate, combined: Bool, decimals: Int = 8) -> String {
        let kline = update.kline
        var body = StreamJSONWriter()
        body.field("t", kline.openTime)
        body.field("T", kline.closeTime)
        body.field("s", string: kline.symbol.rawValue)
        body.field("i", string: kline.interval.rawValue)
        body.field("f", update.firstTradeId)
        body.field("L", update.lastTradeId)
        body.field("o", kline.open.value, places: decimals)
        body.field("c", kline.close.value, places: decimals)
        body.field("h", kline.high.value, places: decimals)
        body.field("l", kline.low.value, places: decimals)
        body.field("v", kline.volume.value, places: decimals)
        body.field("n", Int64(kline.trades))
        body.field("x", kline.isClosed)
        body.field("q", kline.quoteVolume, places: decimals)
        body.field("V", kline.takerBuyBaseVolume, places: decimals)
        body.field("Q", kline.takerBuyQuoteVolume, places: decimals)
        body.field("B", string: "0")  // "Ignore"
        var event = StreamJSONWriter()
        event.field("e", string: "kline")
        event.field("E", update.eventTime)
        event.field("s", string: kline.symbol.rawValue)
        event.field("k", json: body.finish())
        return market(event.finish(), stream: .kline(kline.symbol, kline.interval), combined: combined)
    }

    public static func aggTrade(_ trade: AggregateTrade, combined: Bool, decimals: Int = 8) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "aggTrade")
        event.field("E", trade.eventTime)
        event.field("s", string: trade.symbol.rawValue)
        event.field("a", trade.aggregateTradeId)
        event.field("p", trade.price.value, places: decimals)
        event.field("q", trade.quantity.value, places: decimals)
        event.field("f", trade.firstTradeId)
        event.field("l", trade.lastTradeId)
        event.field("T", trade.tradeTime)
        event.field("m", trade.buyerIsMaker)
        event.field("M", true)  // "Ignore"
        return market(event.finish(), stream: .aggTrade(trade.symbol), combined: combined)
    }

    public static func bookTicker(_ ticker: BookTicker, combined: Bool, decimals: Int = 8) -> String {
        var event = StreamJSONWriter()
        event.field("u", ticker.updateId)
        event.field("s", string: ticker.symbol.rawValue)
        event.field("b", ticker.bidPrice.value, places: decimals)
        event.field("B", ticker.bidQuantity.value, places: decimals)
        event.field("a", ticker.askPrice.value, places: decimals)
        event.field("A", ticker.askQuantity.value, places: decimals)
        return market(event.finish(), stream: .bookTicker(ticker.symbol), combined: combined)
    }

    /// `serverShutdown`; its combined stream name is Binance's `!serverShutdown`.
    public static func serverShutdown(eventTime: Timestamp, combined: Bool) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "serverShutdown")
        event.field("E", eventTime)
        return combined ? wrap(event.finish(), streamName: "!serverShutdown") : event.finish()
    }

    /// Any market event, dispatching to the functions above.
    public static func marketEvent(_ event: MarketStreamEvent, combined: Bool, decimals: Int = 8) -> String {
        switch event {
        case .kline(let update): kline(update, combined: combined, decimals: decimals)
        case .aggTrade(let trade): aggTrade(trade, combined: combined, decimals: decimals)
        case .bookTicker(let ticker): bookTicker(ticker, combined: combined, decimals: decimals)
        case .serverShutdown(let eventTime): serverShutdown(eventTime: eventTime, combined: combined)
        }
    }

    private static func market(_ payload: String, stream: MarketStreamName, combined: Bool) -> String {
        combined ? wrap(payload, streamName: stream.name) : payload
    }

    private static func wrap(_ payload: String, streamName: String) -> String {
        var envelope = StreamJSONWriter()
        envelope.field("stream", string: streamName)
        envelope.field("data", json: payload)
        return envelope.finish()
    }

    // MARK: - User data

    /// An `executionReport`. Conditional fields (`v`, `W`, `eR`) are written only when set;
    /// a nil `timeInForce` is written as Binance's filler `"GTC"`.
    public static func executionReport(_ report: ExecutionReport, framing: UserDataFraming = .raw, decimals: Int = 8) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "executionReport")
        event.field("E", report.eventTime)
        event.field("s", string: report.symbol.rawValue)
        event.field("c", string: report.clientOrderId)
        event.field("S", string: report.side.rawValue)
        event.field("o", string: report.orderType.rawValue)
        event.field("f", string: report.timeInForce?.rawValue ?? TimeInForce.gtc.rawValue)
        event.field("q", report.quantity, places: decimals)
        event.field("p", report.price, places: decimals)
        event.field("P", report.stopPrice, places: decimals)
        event.field("F", report.icebergQuantity, places: decimals)
        event.field("g", report.orderListId)
        event.field("C", string: report.originalClientOrderId)
        event.field("x", string: report.executionType)
        event.field("X", string: report.orderStatus.rawValue)
        event.field("r", string: report.rejectReason)
        event.field("i", report.orderId)
        event.field("l", report.lastExecutedQuantity, places: decimals)
        event.field("z", report.cumulativeFilledQuantity, places: decimals)
        event.field("L", report.lastExecutedPrice, places: decimals)
        event.field("n", report.commission, places: decimals)
        event.field("N", nullableString: report.commissionAsset)
        event.field("T", report.transactionTime)
        event.field("t", report.tradeId)
        if let preventedMatchId = report.preventedMatchId { event.field("v", preventedMatchId) }
        event.field("I", report.executionId)
        event.field("w", report.isOnBook)
        event.field("m", report.isMaker)
        event.field("M", false)  // "Ignore"
        event.field("O", report.orderCreationTime)
        event.field("Z", report.cumulativeQuoteQuantity, places: decimals)
        event.field("Y", report.lastQuoteQuantity, places: decimals)
        event.field("Q", report.quoteOrderQuantity, places: decimals)
        if let workingTime = report.workingTime { event.field("W", workingTime) }
        event.field("V", string: report.selfTradePreventionMode)
        if let expiryReason = report.expiryReason { event.field("eR", string: expiryReason) }
        return frame(event.finish(), framing)
    }

    public static func accountPosition(_ position: AccountPosition, framing: UserDataFraming = .raw, decimals: Int = 8) -> String {
        let balances = position.balances.map { balance in
            var entry = StreamJSONWriter()
            entry.field("a", string: balance.asset.rawValue)
            entry.field("f", balance.free, places: decimals)
            entry.field("l", balance.locked, places: decimals)
            return entry.finish()
        }
        var event = StreamJSONWriter()
        event.field("e", string: "outboundAccountPosition")
        event.field("E", position.eventTime)
        event.field("u", position.lastUpdateTime)
        event.field("B", json: "[" + balances.joined(separator: ",") + "]")
        return frame(event.finish(), framing)
    }

    public static func balanceUpdate(_ update: BalanceUpdate, framing: UserDataFraming = .raw, decimals: Int = 8) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "balanceUpdate")
        event.field("E", update.eventTime)
        event.field("a", string: update.asset.rawValue)
        event.field("d", update.delta, places: decimals)
        event.field("T", update.clearTime)
        return frame(event.finish(), framing)
    }

    public static func listenKeyExpired(eventTime: Timestamp, listenKey: String, framing: UserDataFraming = .raw) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "listenKeyExpired")
        event.field("E", eventTime)
        event.field("listenKey", string: listenKey)
        return frame(event.finish(), framing)
    }

    public static func eventStreamTerminated(eventTime: Timestamp, framing: UserDataFraming = .raw) -> String {
        var event = StreamJSONWriter()
        event.field("e", string: "eventStreamTerminated")
        event.field("E", eventTime)
        return frame(event.finish(), framing)
    }

    private static func frame(_ payload: String, _ framing: UserDataFraming) -> String {
        switch framing {
        case .raw:
            return payload
        case .subscription(let id):
            var envelope = StreamJSONWriter()
            envelope.field("subscriptionId", id)
            envelope.field("event", json: payload)
            return envelope.finish()
        case .combined(let streamName):
            return wrap(payload, streamName: streamName)
        }
    }
}
