import GordonDomain
import GordonExchange
import GordonKernel
import Testing

private func streamDecimal(_ text: String) throws -> ExactDecimal { try ExactDecimal(parsing: text) }
private func ts(_ milliseconds: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds) }

/// Binance's documented example payloads decode to exactly the documented values.
@Suite struct StreamFixtureDecodingTests {
    @Test func documentedKlineIsRejectedBecauseItsLowIsAboveItsOpen() throws {
        let documented = try StreamFixture.text("kline")
        let error = streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeMarket(documented) }
        #expect(error?.code == .exchangeStreamMalformed)
        #expect(error?.message == "malformed market stream message: kline event: kline rejected: low is above open, close or high")
    }

    @Test func klineFixtureDecodesEveryField() throws {
        let event = try BinanceStreamDecoder.decodeMarket(try StreamFixture.text("kline-consistent"))
        guard case .kline(let update) = event else { Issue.record("expected a kline, got \(event)"); return }
        #expect(update.eventTime == ts(1_672_515_782_136))
        #expect(update.firstTradeId == 100)
        #expect(update.lastTradeId == 200)
        let kline = update.kline
        #expect(kline.symbol == (try Symbol("BNBBTC")))
        #expect(kline.interval == .oneMinute)
        #expect(kline.openTime == ts(1_672_515_780_000))
        #expect(kline.closeTime == ts(1_672_515_839_999))
        #expect(kline.open.value == (try streamDecimal("0.0010")))
        #expect(kline.close.value == (try streamDecimal("0.0020")))
        #expect(kline.high.value == (try streamDecimal("0.0025")))
        #expect(kline.low.value == (try streamDecimal("0.0010")))
        #expect(kline.volume.value == 1000)
        #expect(kline.trades == 100)
        #expect(kline.isClosed == false)
        #expect(kline.quoteVolume == 1)
        #expect(kline.takerBuyBaseVolume == 500)
        #expect(kline.takerBuyQuoteVolume == (try streamDecimal("0.5")))
    }

    @Test func aggTradeFixtureDecodesEveryField() throws {
        let event = try BinanceStreamDecoder.decodeMarket(try StreamFixture.text("aggTrade"))
        let expected = AggregateTrade(
            eventTime: ts(1_672_515_782_136), symbol: try Symbol("BNBBTC"), aggregateTradeId: 12345,
            price: try Price(parsing: "0.001"), quantity: try Quantity(parsing: "100"), firstTradeId: 100, lastTradeId: 105,
            tradeTime: ts(1_672_515_782_136), buyerIsMaker: true)
        #expect(event == .aggTrade(expected))
    }

    @Test func bookTickerFixtureDecodesEveryField() throws {
        let event = try BinanceStreamDecoder.decodeMarket(try StreamFixture.text("bookTicker"))
        let expected = BookTicker(
            updateId: 400_900_217, symbol: try Symbol("BNBUSDT"), bidPrice: try Price(parsing: "25.3519"),
            bidQuantity: try Quantity(parsing: "31.21"), askPrice: try Price(parsing: "25.3652"), askQuantity: try Quantity(parsing: "40.66"))
        #expect(event == .bookTicker(expected))
    }

    @Test func serverShutdownFixturesDecodeInBothForms() throws {
        let raw = try BinanceStreamDecoder.decodeMarket(try StreamFixture.text("serverShutdown"))
        let combined = try BinanceStreamDecoder.decodeMarket(try StreamFixture.text("serverShutdown-combined"))
        #expect(raw == .serverShutdown(eventTime: ts(1_770_123_456_789)))
        #expect(combined == raw)
    }

    @Test func executionReportFixtureDecodesEveryField() throws {
        let event = try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("executionReport"))
        guard case .executionReport(let report) = event else { Issue.record("expected an executionReport, got \(event)"); return }
        #expect(report.eventTime == ts(1_499_405_658_658))
        #expect(report.symbol == (try Symbol("ETHBTC")))
        #expect(report.clientOrderId == "mUvoqJxFIILMdfAW5iGSOW")
        #expect(report.side == .buy)
        #expect(report.orderType == .limit)
        #expect(report.timeInForce == .gtc)
        #expect(report.quantity == 1)
        #expect(report.price == (try streamDecimal("0.10264410")))
        #expect(report.stopPrice == 0)
        #expect(report.icebergQuantity == 0)
        #expect(report.orderListId == -1)
        #expect(report.originalClientOrderId == "")
        #expect(report.executionType == "NEW")
        #expect(report.orderStatus == .new)
        #expect(report.rejectReason == "NONE")
        #expect(report.orderId == 4_293_153)
        #expect(report.lastExecutedQuantity == 0)
        #expect(report.cumulativeFilledQuantity == 0)
        #expect(report.lastExecutedPrice == 0)
        #expect(report.commission == 0)
        #expect(report.commissionAsset == nil)
        #expect(report.transactionTime == ts(1_499_405_658_657))
        #expect(report.tradeId == -1)
        #expect(report.preventedMatchId == 3)
        #expect(report.executionId == 8_641_984)
        #expect(report.isOnBook == true)
        #expect(report.isMaker == false)
        #expect(report.orderCreationTime == ts(1_499_405_658_657))
        #expect(report.cumulativeQuoteQuantity == 0)
        #expect(report.lastQuoteQuantity == 0)
        #expect(report.quoteOrderQuantity == 0)
        #expect(report.workingTime == ts(1_499_405_658_657))
        #expect(report.selfTradePreventionMode == "NONE")
        #expect(report.expiryReason == nil)
    }

    @Test func accountPositionFixtureDecodes() throws {
        let event = try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("outboundAccountPosition"))
        let expected = AccountPosition(eventTime: ts(1_564_034_571_105), lastUpdateTime: ts(1_564_034_571_073),
                                       balances: [AssetBalanceUpdate(asset: .eth, free: 10000, locked: 0)])
        #expect(event == .accountPosition(expected))
    }

    @Test func balanceUpdateFixtureDecodes() throws {
        let event = try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("balanceUpdate"))
        #expect(event == .balanceUpdate(BalanceUpdate(eventTime: ts(1_573_200_697_110), asset: .btc, delta: 100, clearTime: ts(1_573_200_697_068))))
    }

    @Test func listenKeyExpiredAndStreamTerminatedFixturesDecode() throws {
        #expect(try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("listenKeyExpired")) == .listenKeyExpired(eventTime: ts(1_699_596_037_418)))
        #expect(try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("eventStreamTerminated")) == .eventStreamTerminated(eventTime: ts(1_728_973_001_334)))
    }

    @Test func eventsGordonDoesNotActOnAreOther() throws {
        #expect(try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("listStatus")) == .other(eventType: "listStatus"))
        #expect(try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("externalLockUpdate")) == .other(eventType: "externalLockUpdate"))
        #expect(try BinanceStreamDecoder.decodeUserData(#"{"e":"somethingNew","E":1,"x":[{"y":null}]}"#) == .other(eventType: "somethingNew"))
    }
}

/// The same payload decodes alike raw, combined and (user data) WebSocket-API-wrapped.
@Suite struct StreamEnvelopeTests {
    @Test(arguments: [("kline-consistent", "bnbbtc@kline_1m"), ("aggTrade", "bnbbtc@aggTrade"), ("bookTicker", "bnbusdt@bookTicker")])
    func combinedAndRawMarketFormsAgree(fixture: String, stream: String) throws {
        let raw = try StreamFixture.text(fixture)
        let combined = #"{"stream":"\#(stream)","data":\#(raw)}"#
        let dataFirst = #"{ "data" : \#(raw) , "stream" : "\#(stream)" }"#
        let expected = try BinanceStreamDecoder.decodeMarket(raw)
        #expect(try BinanceStreamDecoder.decodeMarket(combined) == expected)
        #expect(try BinanceStreamDecoder.decodeMarket(dataFirst) == expected)
        #expect(try BinanceStreamDecoder.decodeMarket(Array(combined.utf8)) == expected)
        #expect(try BinanceStreamDecoder.decodeMarket(Array(combined.utf8)[...]) == expected)
    }

    @Test func knownSymbolsChangeNothingButSpeed() throws {
        let raw = try StreamFixture.text("kline-consistent")
        let known = [try Symbol("ETHBTC"), try Symbol("BNBBTC")]
        let expected = try BinanceStreamDecoder.decodeMarket(raw)
        #expect(try BinanceStreamDecoder.decodeMarket(raw, knownSymbols: known) == expected)
        guard case .kline(let update) = try BinanceStreamDecoder.decodeMarket(raw, knownSymbols: known) else { return }
        #expect(update.kline.symbol.base == (try Asset("BNB")))
        #expect(update.kline.symbol.quote == .btc)
        let lowercase = raw.replacingOccurrences(of: "BNBBTC", with: "bnbbtc")
        let error = streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeMarket(lowercase, knownSymbols: known) }
        #expect(error?.message.contains("symbol must be 2-20 characters") == true)
    }

    @Test func symbolsSplitLikeTheDomain() throws {
        // The decoder splits symbols on bytes; the result must equal Symbol.init's, parts included.
        for text in ["BTCUSDT", "BTCFDUSD", "BTCEURI", "1000SATSUSDT", "ETHBTC", "ABCXYZ", "USDT", "BTCUSD"] {
            let message = #"{"u":1,"s":"\#(text)","b":"1","B":"1","a":"1","A":"1"}"#
            guard case .bookTicker(let ticker) = try BinanceStreamDecoder.decodeMarket(message) else { Issue.record("not a ticker"); continue }
            let expected = try Symbol(text)
            #expect(ticker.symbol == expected)
            #expect(ticker.symbol.base == expected.base && ticker.symbol.quote == expected.quote, "\(text)")
        }
    }

    @Test func combinedStreamNameMustMatchThePayload() throws {
        let raw = try StreamFixture.text("kline-consistent")
        for stream in ["bnbbtc@kline_5m", "ethbtc@kline_1m", "bnbbtc@aggTrade", "BNBBTC@kline_1m"] {
            let error = streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeMarket(#"{"stream":"\#(stream)","data":\#(raw)}"#) }
            #expect(error?.code == .exchangeStreamMalformed)
            #expect(error?.message.contains("does not match its payload") == true, "\(String(describing: error))")
        }
    }

    @Test func userDataFormsAgree() throws {
        let wrapped = try StreamFixture.text("executionReport")
        let expected = try BinanceStreamDecoder.decodeUserData(wrapped)
        // The payload alone, as on /ws/<listenKey>, and combined, as on /stream?streams=<listenKey>.
        let start = wrapped.range(of: #""event": "#)!.upperBound
        let payload = String(wrapped[start...].dropLast(2))
        #expect(try BinanceStreamDecoder.decodeUserData(payload) == expected)
        #expect(try BinanceStreamDecoder.decodeUserData(#"{"stream":"pqia91ma19a5s61cv6a81va65sdf19v8","data":\#(payload)}"#) == expected)
        #expect(try BinanceStreamDecoder.decodeUserData(#"{"event":\#(payload),"subscriptionId":7}"#) == expected)
    }

    @Test func timeInForceIsNilForOrderTypesWithoutOne() throws {
        let limit = try StreamFixture.text("executionReport")
        let market = limit.replacingOccurrences(of: #""o": "LIMIT""#, with: #""o": "MARKET""#)
        guard case .executionReport(let report) = try BinanceStreamDecoder.decodeUserData(market) else { Issue.record("not a report"); return }
        #expect(report.orderType == .market)
        #expect(report.timeInForce == nil)
        let badLimit = limit.replacingOccurrences(of: #""f": "GTC""#, with: #""f": "GTX""#)
        let error = streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeUserData(badLimit) }
        #expect(error?.message.contains(#"field "f": unknown value "GTX""#) == true, "\(String(describing: error))")
    }
}

/// Wrong input is refused with `exchangeStreamMalformed` and a message that says what is wrong.
@Suite struct StreamRejectionTests {
    private func marketError(_ text: String) -> GordonError? {
        streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeMarket(text) }
    }

    @Test func klineWithHighBelowLowIsRejected() throws {
        let text = try StreamFixture.text("kline-consistent").replacingOccurrences(of: #""h": "0.0025""#, with: #""h": "0.0005""#)
        let error = try #require(marketError(text))
        #expect(error.code == .exchangeStreamMalformed)
        #expect(error.message.hasPrefix("malformed market stream message: kline event: kline rejected:"), "\(error)")
        #expect((error.underlying as? GordonError)?.code == .invalidKline)
    }

    @Test func klineWithOpenTimeOffTheGridIsRejected() throws {
        let text = try StreamFixture.text("kline-consistent")
            .replacingOccurrences(of: "1672515780000", with: "1672515780500")
            .replacingOccurrences(of: "1672515839999", with: "1672515840499")
        let error = try #require(marketError(text))
        #expect(error.code == .exchangeStreamMalformed)
        #expect(error.message.contains("open time is not on the 1m grid"), "\(error)")
    }

    @Test(arguments: [
        (#"{"e":"kline","E":1,"s":"BNBBTC"}"#, #"missing field "k""#),
        (#"{"e":"aggTrade","E":1,"s":"BNBBTC","a":1,"p":"-1","q":"1","f":1,"l":1,"T":1,"m":true}"#, #"field "p": price must not be negative"#),
        (#"{"e":"aggTrade","E":1.5}"#, #"expected an integer for E, found a fraction or exponent"#),
        (#"{"e":"aggTrade","E":99999999999999999999}"#, "integer out of range for E"),
        (#"{"e":"aggTrade","s":5}"#, "expected a string for s, found '5'"),
        (#"{"u":1,"s":"bnbusdt","b":"1","B":"1","a":"1","A":"1"}"#, #"field "s": symbol must be 2-20 characters A-Z0-9"#),
        (#"{"u":1,"s":"BNBUSDT","b":"1e5","B":"1","a":"1","A":"1"}"#, #"field "b": not a decimal: exponent notation"#),
        (#"{"e":"trade","E":1}"#, #"unsupported market event type "trade""#),
        (#"{"e":"kline""#, "message ends where"),
        (#"{"u":1,"s":"BNBUSDT","b":"1","B":"1","a":"1","A":"1"} x"#, "unexpected text after the JSON value"),
        ("", "message ends where"),
        ("[1,2]", "expected an object"),
    ])
    func malformedMarketMessagesNameTheProblem(text: String, expectedFragment: String) {
        let error = marketError(text)
        #expect(error?.code == .exchangeStreamMalformed)
        #expect(error?.message.contains(expectedFragment) == true, "\(String(describing: error))")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func userDataWithoutEventTypeIsRejected() {
        let error = streamError { () throws(GordonError) in try BinanceStreamDecoder.decodeUserData(#"{"E":1}"#) }
        #expect(error?.code == .exchangeStreamMalformed)
        #expect(error?.message.contains(#"has no event type "e""#) == true)
    }

    @Test func rawTextInTheErrorIsBoundedAndPrintable() throws {
        let huge = #"{"e":"aggTrade","E":"# + String(repeating: "9", count: 5000) + "\u{1}é}"
        let error = try #require(marketError(huge))
        let raw = try #require(error.context["raw"])
        #expect(raw.count <= 201)
        #expect(raw.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) || $0 == "…" })
        #expect(error.context["bytes"] == "\(huge.utf8.count)")
        #expect(!error.description.contains("\n"))
    }

    @Test func deepNestingIsRefusedWithoutRecursion() {
        let deep = #"{"e":"kline","x":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let error = marketError(deep)
        #expect(error?.message.contains("nesting deeper than 64 levels") == true, "\(String(describing: error))")
    }

    @Test func escapedAndUnicodeStringsDecode() throws {
        var text = try StreamFixture.text("executionReport")
        text = text.replacingOccurrences(of: #""c": "mUvoqJxFIILMdfAW5iGSOW""#, with: #""c": "a\"b\\c\/d\u00e9\ud83d\ude80\n""#)
        guard case .executionReport(let report) = try BinanceStreamDecoder.decodeUserData(text) else { Issue.record("not a report"); return }
        #expect(report.clientOrderId == "a\"b\\c/dé🚀\n")
    }
}

/// Decimals read on the fast path equal what `ExactDecimal(parsing:)` makes of the same text,
/// and text it refuses is refused.
@Suite struct StreamDecimalTests {
    @Test func fastAndDomainDecimalParsingAgree() throws {
        var random = SplitMix64(seed: 0xDEC1)
        let alphabet = Array("0000123456789..-e+ ")
        var samples = ["0", "-0", "00012.5000", "1.", ".5", "1e5", "+1", "-", "1..2", "0.00000001",
                       "123456789012345678", "1234567890123456789", "0.000000000000000000000000000000001",
                       "99999999999999999999999999999999999999", "999999999999999999999999999999999999999"]
        for _ in 0..<3000 {
            let length = Int.random(in: 1...24, using: &random)
            samples.append(String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }))
        }
        var mismatches: [String] = []
        for sample in samples {
            let message = #"{"e":"balanceUpdate","E":1,"a":"BTC","d":"\#(sample)","T":1}"#
            let decoded: ExactDecimal?
            if case .balanceUpdate(let update)? = try? BinanceStreamDecoder.decodeUserData(message) { decoded = update.delta } else { decoded = nil }
            let expected = try? ExactDecimal(parsing: sample)
            if decoded != expected { mismatches.append(sample) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

@Suite struct MarketStreamNameTests {
    @Test func everyNameRoundTrips() throws {
        let symbol = try Symbol("BTCUSDT")
        var names: [MarketStreamName] = [.aggTrade(symbol), .bookTicker(symbol)]
        names += Interval.allCases.map { .kline(symbol, $0) }
        for name in names {
            #expect(try MarketStreamName(parsing: name.name) == name)
        }
        #expect(MarketStreamName.kline(symbol, .oneMonth).name == "btcusdt@kline_1M")
        #expect(MarketStreamName.aggTrade(try Symbol("1000SATSUSDT")).name == "1000satsusdt@aggTrade")
        #expect(try MarketStreamName(parsing: "bnbbtc@bookTicker").symbol == (try Symbol("BNBBTC")))
    }

    @Test(arguments: ["btcusdt", "BTCUSDT@aggTrade", "btcusdt@kline_2m", "btcusdt@kline_1d@+08:00", "btcusdt@trade",
                      "@aggTrade", "b@aggTrade", "btc-usdt@aggTrade", "btcusdt@bookticker", ""])
    func unsupportedNamesAreRejected(text: String) {
        let error = streamError { () throws(GordonError) in try MarketStreamName(parsing: text) }
        #expect(error?.code == .exchangeStreamMalformed)
    }
}
