import GordonDomain
import GordonKernel

/// Readers for user data stream payloads (the `{"e":…}` objects). Unknown fields are skipped.
extension StreamJSONScanner {
    /// Reads the payload object at the current position, choosing the reader by its `"e"`.
    /// An event type Gordon does not act on is still checked to be well-formed JSON.
    mutating func userDataPayload() throws(StreamDecodingFailure) -> UserDataEvent {
        skipWhitespace()
        guard let typeAt = try findMember("e", inObjectAt: position) else {
            throw failure("user data event has no event type \"e\"")
        }
        var typeReader = StreamJSONScanner(bytes, position: typeAt)
        let eventType = try typeReader.string("e")
        do {
            switch eventType {
            case "executionReport": return .executionReport(try executionReport())
            case "outboundAccountPosition": return .accountPosition(try accountPosition())
            case "balanceUpdate": return .balanceUpdate(try balanceUpdate())
            case "listenKeyExpired": return .listenKeyExpired(eventTime: try eventTimeOnly())
            case "eventStreamTerminated": return .eventStreamTerminated(eventTime: try eventTimeOnly())
            default: break
            }
        } catch {
            throw error.prefixed("\(eventType) event: ")
        }
        do {
            try skipValue()
        } catch {
            throw error.prefixed("\(StreamDecodingFailure.quoted(eventType)) event: ")
        }
        return .other(eventType: eventType)
    }

    mutating func executionReport() throws(StreamDecodingFailure) -> ExecutionReport {
        var eventTime: Timestamp?, symbol: Symbol?, clientOrderId: String?, side: Side?, orderType: OrderType?
        var timeInForceText: String?
        var quantity: ExactDecimal?, price: ExactDecimal?, stopPrice: ExactDecimal?, icebergQuantity: ExactDecimal?
        var orderListId: Int64?, originalClientOrderId: String?, executionType: String?, orderStatus: OrderStatus?
        var rejectReason: String?, orderId: Int64?
        var lastExecutedQuantity: ExactDecimal?, cumulativeFilledQuantity: ExactDecimal?, lastExecutedPrice: ExactDecimal?
        var commission: ExactDecimal?, commissionAsset: String??, transactionTime: Timestamp?, tradeId: Int64?
        var executionId: Int64?, isOnBook: Bool?, isMaker: Bool?, orderCreationTime: Timestamp?
        var cumulativeQuoteQuantity: ExactDecimal?, lastQuoteQuantity: ExactDecimal?, quoteOrderQuantity: ExactDecimal?
        var workingTime: Timestamp?, selfTradePreventionMode: String?, preventedMatchId: Int64?, expiryReason: String?
        var cursor = try enterObject("the executionReport event")
        while let key = try nextKey(&cursor) {
            guard let letter = letter(key) else {
                if self.key(key, is: "eR") { expiryReason = try string("eR") } else { try skipValue() }
                continue
            }
            switch letter {
            case UInt8(ascii: "E"): eventTime = try timestamp("E")
            case UInt8(ascii: "s"): symbol = try self.symbol("s")
            case UInt8(ascii: "c"): clientOrderId = try string("c")
            case UInt8(ascii: "S"): side = try enumValue(Side.self, "S")
            case UInt8(ascii: "o"): orderType = try enumValue(OrderType.self, "o")
            case UInt8(ascii: "f"): timeInForceText = try string("f")
            case UInt8(ascii: "q"): quantity = try decimal("q")
            case UInt8(ascii: "p"): price = try decimal("p")
            case UInt8(ascii: "P"): stopPrice = try decimal("P")
            case UInt8(ascii: "F"): icebergQuantity = try decimal("F")
            case UInt8(ascii: "g"): orderListId = try int64("g")
            case UInt8(ascii: "C"): originalClientOrderId = try string("C")
            case UInt8(ascii: "x"): executionType = try string("x")
            case UInt8(ascii: "X"): orderStatus = try enumValue(OrderStatus.self, "X")
            case UInt8(ascii: "r"): rejectReason = try string("r")
            case UInt8(ascii: "i"): orderId = try int64("i")
            case UInt8(ascii: "l"): lastExecutedQuantity = try decimal("l")
            case UInt8(ascii: "z"): cumulativeFilledQuantity = try decimal("z")
            case UInt8(ascii: "L"): lastExecutedPrice = try decimal("L")
            case UInt8(ascii: "n"): commission = try decimal("n")
            case UInt8(ascii: "N"): commissionAsset = consumeNull() ? .some(nil) : try string("N")
            case UInt8(ascii: "T"): transactionTime = try timestamp("T")
            case UInt8(ascii: "t"): tradeId = try int64("t")
            case UInt8(ascii: "I"): executionId = try int64("I")
            case UInt8(ascii: "w"): isOnBook = try bool("w")
            case UInt8(ascii: "m"): isMaker = try bool("m")
            case UInt8(ascii: "O"): orderCreationTime = try timestamp("O")
            case UInt8(ascii: "Z"): cumulativeQuoteQuantity = try decimal("Z")
            case UInt8(ascii: "Y"): lastQuoteQuantity = try decimal("Y")
            case UInt8(ascii: "Q"): quoteOrderQuantity = try decimal("Q")
            case UInt8(ascii: "W"): workingTime = try timestamp("W")
            case UInt8(ascii: "V"): selfTradePreventionMode = try string("V")
            case UInt8(ascii: "v"): preventedMatchId = try int64("v")
            default: try skipValue()
            }
        }
        let type = try required(orderType, "o")
        // Binance fills "f" even for orders that take no time in force; only there is it read.
        var timeInForce: TimeInForce?
        if type.requiresTimeInForce {
            let text = try required(timeInForceText, "f")
            guard let value = TimeInForce(rawValue: text) else {
                throw StreamDecodingFailure("field \"f\": unknown value \(StreamDecodingFailure.quoted(text))")
            }
            timeInForce = value
        }
        return ExecutionReport(
            eventTime: try required(eventTime, "E"), symbol: try required(symbol, "s"),
            clientOrderId: try required(clientOrderId, "c"), side: try required(side, "S"), orderType: type,
            timeInForce: timeInForce, quantity: try required(quantity, "q"), price: try required(price, "p"),
            stopPrice: try required(stopPrice, "P"), icebergQuantity: try required(icebergQuantity, "F"),
            orderListId: try required(orderListId, "g"), originalClientOrderId: try required(originalClientOrderId, "C"),
            executionType: try required(executionType, "x"), orderStatus: try required(orderStatus, "X"),
            rejectReason: try required(rejectReason, "r"), orderId: try required(orderId, "i"),
            lastExecutedQuantity: try required(lastExecutedQuantity, "l"),
            cumulativeFilledQuantity: try required(cumulativeFilledQuantity, "z"),
            lastExecutedPrice: try required(lastExecutedPrice, "L"), commission: try required(commission, "n"),
            commissionAsset: try required(commissionAsset, "N"), transactionTime: try required(transactionTime, "T"),
            tradeId: try required(tradeId, "t"), executionId: try required(executionId, "I"),
            isOnBook: try required(isOnBook, "w"), isMaker: try required(isMaker, "m"),
            orderCreationTime: try required(orderCreationTime, "O"),
            cumulativeQuoteQuantity: try required(cumulativeQuoteQuantity, "Z"),
            lastQuoteQuantity: try required(lastQuoteQuantity, "Y"), quoteOrderQuantity: try required(quoteOrderQuantity, "Q"),
            workingTime: workingTime, selfTradePreventionMode: try required(selfTradePreventionMode, "V"),
            preventedMatchId: preventedMatchId, expiryReason: expiryReason)
    }

    mutating func accountPosition() throws(StreamDecodingFailure) -> AccountPosition {
        var eventTime: Timestamp?, lastUpdateTime: Timestamp?, balances: [AssetBalanceUpdate]?
        var cursor = try enterObject("the outboundAccountPosition event")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "E"): eventTime = try timestamp("E")
            case UInt8(ascii: "u"): lastUpdateTime = try timestamp("u")
            case UInt8(ascii: "B"): balances = try balanceList()
            default: try skipValue()
            }
        }
        return AccountPosition(eventTime: try required(eventTime, "E"), lastUpdateTime: try required(lastUpdateTime, "u"),
                               balances: try required(balances, "B"))
    }

    private mutating func balanceList() throws(StreamDecodingFailure) -> [AssetBalanceUpdate] {
        var balances: [AssetBalanceUpdate] = []
        var elements = try enterArray("\"B\"")
        while try nextElement(&elements) {
            var asset: Asset?, free: ExactDecimal?, locked: ExactDecimal?
            var cursor = try enterObject("an entry of \"B\"")
            while let key = try nextKey(&cursor) {
                switch letter(key) {
                case UInt8(ascii: "a"): asset = try self.asset("B.a")
                case UInt8(ascii: "f"): free = try decimal("B.f")
                case UInt8(ascii: "l"): locked = try decimal("B.l")
                default: try skipValue()
                }
            }
            balances.append(AssetBalanceUpdate(asset: try required(asset, "B.a"), free: try required(free, "B.f"),
                                               locked: try required(locked, "B.l")))
        }
        return balances
    }

    mutating func balanceUpdate() throws(StreamDecodingFailure) -> BalanceUpdate {
        var eventTime: Timestamp?, asset: Asset?, delta: ExactDecimal?, clearTime: Timestamp?
        var cursor = try enterObject("the balanceUpdate event")
        while let key = try nextKey(&cursor) {
            switch letter(key) {
            case UInt8(ascii: "E"): eventTime = try timestamp("E")
            case UInt8(ascii: "a"): asset = try self.asset("a")
            case UInt8(ascii: "d"): delta = try decimal("d")
            case UInt8(ascii: "T"): clearTime = try timestamp("T")
            default: try skipValue()
            }
        }
        return BalanceUpdate(eventTime: try required(eventTime, "E"), asset: try required(asset, "a"),
                             delta: try required(delta, "d"), clearTime: try required(clearTime, "T"))
    }
}
