import Foundation
import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// Wire values to domain values: orders, fills, balances, fees and klines.
@Suite("REST response mapping")
struct RESTMappingTests {
    let bot = try! BotId("bot-1")

    private func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try BinanceJSON.decode(T.self, from: try Fixtures.bytes(name), endpoint: "/fixture")
    }

    @Test func fullMarketOrderMapsToFilledOrderWithoutPaddingFields() throws {
        let order = try decode(OrderResponse.self, "rest-order-full.json")
            .order(botId: bot, createdAt: Timestamp(milliseconds: 1))
        #expect(order.clientOrderId == (try ClientOrderId("6gCrw2kRUAF9CvJDGP16IP")))
        #expect(order.exchangeOrderId == 28)
        #expect(order.botId == bot)
        #expect(order.symbol == (try Symbol("BTCUSDT")))
        #expect(order.side == .sell)
        #expect(order.type == .market)
        #expect(order.status == .filled)
        #expect(order.quantity == (try Quantity(dec("10"))))
        #expect(order.executedQuantity == (try Quantity(dec("10"))))
        #expect(order.cumulativeQuoteQuantity == dec("10"))
        // "0.00000000" and the echoed GTC are Binance's padding for a MARKET order.
        #expect(order.price == nil)
        #expect(order.timeInForce == nil)
        #expect(order.stopPrice == nil)
        #expect(order.createdAt == Timestamp(milliseconds: 1_507_725_176_595))
        #expect(order.updatedAt == Timestamp(milliseconds: 1_507_725_176_595))
        let result = try decode(OrderResponse.self, "rest-order-result.json").order(botId: bot, createdAt: Timestamp(milliseconds: 1))
        #expect(result == order)
    }

    @Test func fullResponseFillsAreTakerFills() throws {
        let fills = try decode(OrderResponse.self, "rest-order-full.json").domainFills()
        #expect(fills.map(\.tradeId) == [56, 57, 58, 59, 60])
        let second = fills[1]
        #expect(second.price == (try Price(dec("3999"))))
        #expect(second.quantity == (try Quantity(dec("5"))))
        #expect(second.quoteQuantity == dec("19995"))
        #expect(second.commission == dec("19.995"))
        #expect(second.commissionAsset == .usdt)
        #expect(second.side == .sell && !second.isMaker)
        #expect(second.exchangeOrderId == 28)
        #expect(second.time == Timestamp(milliseconds: 1_507_725_176_595))
        #expect(try decode(OrderResponse.self, "rest-order-result.json").domainFills().isEmpty)
    }

    @Test func queriedLimitOrderKeepsPriceAndTimeInForceAndDropsZeroStopPrice() throws {
        let order = try decode(OrderResponse.self, "rest-order-query.json").order(botId: bot, createdAt: Timestamp(milliseconds: 1))
        #expect(order.type == .limit && order.side == .buy && order.status == .new)
        #expect(order.price == (try Price(dec("0.1"))))
        #expect(order.timeInForce == .gtc)
        #expect(order.stopPrice == nil)
        #expect(order.executedQuantity == .zero && order.cumulativeQuoteQuantity == .zero)
        #expect(order.createdAt == Timestamp(milliseconds: 1_499_827_319_559))
        let open = try decode([OrderResponse].self, "rest-open-orders.json")
        #expect(try open.map { r throws(GordonError) in try r.order(botId: bot, createdAt: Timestamp(milliseconds: 1)) } == [order])
    }

    @Test func cancelResponseMapsToTheOriginalClientOrderId() throws {
        let fallback = Timestamp(milliseconds: 1_684_804_000_000)
        let order = try decode(OrderResponse.self, "rest-order-cancel.json").order(botId: bot, createdAt: fallback)
        #expect(order.clientOrderId == (try ClientOrderId("myOrder1")))
        #expect(order.status == .canceled)
        #expect(order.price == (try Price(dec("2"))))
        // transactTime is when the cancel happened, not when the order was made.
        #expect(order.createdAt == fallback)
        #expect(order.updatedAt == Timestamp(milliseconds: 1_684_804_350_068))
    }

    @Test func ackHasNoTermsToMap() throws {
        let ack = try decode(OrderResponse.self, "rest-order-ack.json")
        let error = #expect(throws: GordonError.self) { try ack.order(botId: bot, createdAt: Timestamp(milliseconds: 1)) }
        #expect(error?.code == .exchangeMalformedResponse)
        #expect(error?.context["field"] == "type")
    }

    @Test func inconsistentOrderIsMalformedNotATrap() throws {
        var response = try decode(OrderResponse.self, "rest-order-query.json")
        response.status = "FILLED"  // FILLED with nothing executed violates Order's invariants
        let error = #expect(throws: GordonError.self) { try response.order(botId: bot, createdAt: Timestamp(milliseconds: 1)) }
        #expect(error?.code == .exchangeMalformedResponse)
        #expect((error?.underlying as? GordonError)?.code == .invalidOrder)
        response.status = "SOMETHING_NEW"
        #expect(throws: GordonError.self) { try response.order(botId: bot, createdAt: Timestamp(milliseconds: 1)) }
        response.status = "NEW"
        response.price = "1e-8"
        let badPrice = #expect(throws: GordonError.self) { try response.order(botId: bot, createdAt: Timestamp(milliseconds: 1)) }
        #expect(badPrice?.code == .exchangeMalformedResponse && badPrice?.context["field"] == "price")
    }

    @Test func myTradeMapsToFill() throws {
        let trade = try #require(try decode([MyTradeResponse].self, "rest-my-trades.json").first)
        let id = try ClientOrderId("myOrder1")
        let fill = try trade.fill(clientOrderId: id)
        #expect(fill.tradeId == 28457)
        #expect(fill.exchangeOrderId == 100_234)
        #expect(fill.clientOrderId == id)
        #expect(fill.symbol == (try Symbol("BNBBTC")))
        #expect(fill.side == .buy)
        #expect(fill.price == (try Price(dec("4.000001"))))
        #expect(fill.quantity == (try Quantity(dec("12"))))
        #expect(fill.quoteQuantity == dec("48.000012"))
        #expect(fill.commission == dec("10.1"))
        #expect(fill.commissionAsset == .bnb)
        #expect(!fill.isMaker)
        #expect(fill.time == Timestamp(milliseconds: 1_499_865_549_590))
    }

    @Test func accountMapsToFeeModelAndBalances() throws {
        let account = try decode(AccountResponse.self, "rest-account.json")
        let fees = try account.feeModel()
        #expect(fees.makerRate == dec("0.0015") && fees.takerRate == dec("0.0015") && !fees.payWithBNB)
        let balances = try account.domainBalances()
        #expect(balances == [try Balance(asset: .btc, free: dec("4723846.89208129"), locked: .zero),
                             try Balance(asset: Asset("LTC"), free: dec("4763368.68006011"), locked: .zero)])
        var broken = account
        broken.balances[1].locked = "-1"
        #expect(throws: GordonError.self) { try broken.domainBalances() }
    }

    @Test func klineRowAndKlineConvertBothWays() throws {
        let row = try #require(try decode([KlineRow].self, "rest-klines.json").first)
        let symbol = try Symbol("ETHBTC")
        // 1499040000000 is Monday 2017-07-03 00:00 UTC; the close is one week later − 1 ms.
        let kline = try row.kline(symbol: symbol, interval: .oneWeek, isClosed: true)
        #expect(kline.openTime == Timestamp(milliseconds: 1_499_040_000_000))
        #expect(kline.closeTime == Timestamp(milliseconds: 1_499_644_799_999))
        #expect(kline.open == (try Price(dec("0.0163479"))))
        #expect(kline.high == (try Price(dec("0.8"))))
        #expect(kline.low == (try Price(dec("0.015758"))))
        #expect(kline.close == (try Price(dec("0.015771"))))
        #expect(kline.volume == (try Quantity(dec("148976.11427815"))))
        #expect(kline.quoteVolume == dec("2434.19055334"))
        #expect(kline.trades == 308)
        #expect(kline.takerBuyBaseVolume == dec("1756.87402397"))
        #expect(kline.takerBuyQuoteVolume == dec("28.46694368"))
        #expect(kline.isClosed)
        #expect(KlineRow(kline, decimals: 8) == row)

        let wrongInterval = #expect(throws: GordonError.self) { try row.kline(symbol: symbol, interval: .oneDay, isClosed: true) }
        #expect(wrongInterval?.code == .exchangeMalformedResponse)
        #expect((wrongInterval?.underlying as? GordonError)?.code == .invalidKline)
    }

    @Test func malformedBodiesAreErrorsNotTraps() throws {
        let cases: [(String, (([UInt8]) throws(GordonError) -> Void))] = [
            ("not json", { bytes throws(GordonError) in _ = try BinanceJSON.decode(OrderResponse.self, from: bytes, endpoint: "/api/v3/order") }),
            ("{\"symbol\": 1}", { bytes throws(GordonError) in _ = try BinanceJSON.decode(OrderResponse.self, from: bytes, endpoint: "/api/v3/order") }),
            ("[[1499040000000, \"1\", \"1\"]]", { bytes throws(GordonError) in _ = try BinanceJSON.decode([KlineRow].self, from: bytes, endpoint: "/api/v3/klines") }),
            ("{\"filterType\": \"PRICE_FILTER\", \"minPrice\": \"0.1\", \"maxPrice\": \"1\"}",
             { bytes throws(GordonError) in _ = try BinanceJSON.decode(SymbolFilter.self, from: bytes, endpoint: "/api/v3/exchangeInfo") }),
            ("{\"filterType\": \"LOT_SIZE\", \"minQty\": \"1e-3\", \"maxQty\": \"1\", \"stepSize\": \"0.001\"}",
             { bytes throws(GordonError) in _ = try BinanceJSON.decode(SymbolFilter.self, from: bytes, endpoint: "/api/v3/exchangeInfo") }),
            ("", { bytes throws(GordonError) in _ = try BinanceJSON.decode(ServerTimeResponse.self, from: bytes, endpoint: "/api/v3/time") }),
            ("{\"serverTime\": \"soon\"}", { bytes throws(GordonError) in _ = try BinanceJSON.decode(ServerTimeResponse.self, from: bytes, endpoint: "/api/v3/time?x=1") }),
        ]
        for (body, decode) in cases {
            let error = #expect(throws: GordonError.self, "\(body)") { try decode(Array(body.utf8)) }
            #expect(error?.code == .exchangeMalformedResponse, "\(body)")
            #expect(error?.context["endpoint"]?.contains("?") == false)
        }
        let badKline = KlineRow(openTime: 0, open: "x", high: "1", low: "1", close: "1", volume: "1", closeTime: 59_999,
                                quoteVolume: "1", trades: 1, takerBuyBaseVolume: "0", takerBuyQuoteVolume: "0")
        let error = #expect(throws: GordonError.self) { try badKline.kline(symbol: Symbol("BTCUSDT"), interval: .oneMinute, isClosed: true) }
        #expect(error?.code == .exchangeMalformedResponse && error?.context["field"] == "open")
    }

    @Test func decodingErrorNamesThePathButNotTheBody() throws {
        let body = Array(#"{"listenKey": 42, "secretish": "pqia91ma19"}"#.utf8)
        let error = #expect(throws: GordonError.self) { try BinanceJSON.decode(ListenKeyResponse.self, from: body, endpoint: "/api/v3/userDataStream") }
        #expect(error?.description.contains("listenKey") == true)
        #expect(error?.description.contains("pqia91ma19") == false)
    }
}
