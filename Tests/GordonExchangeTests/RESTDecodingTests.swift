import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// Every documented example response decodes to the documented values and re-encodes to
/// the same JSON (keys, kinds and text), which is what holds the simulator to Binance's shape.
@Suite("REST response decoding")
struct RESTDecodingTests {
    @Test func pingTestOrderAndListenKeyManagementAreEmptyObjects() throws {
        for name in ["rest-ping.json", "rest-order-test.json", "rest-user-data-stream-keepalive.json", "rest-user-data-stream-close.json"] {
            #expect(try Fixtures.roundTrip(EmptyResponse.self, name) == EmptyResponse())
        }
        #expect(try BinanceJSON.encode(EmptyResponse()) == Array("{}".utf8))
    }

    @Test func serverTime() throws {
        let time = try Fixtures.roundTrip(ServerTimeResponse.self, "rest-time.json")
        #expect(time.serverTime == 1_499_827_319_559)
        #expect(time.timestamp == Timestamp(milliseconds: 1_499_827_319_559))
    }

    @Test func errorBody() throws {
        let body = try Fixtures.roundTrip(BinanceErrorBody.self, "rest-error.json")
        #expect(body == BinanceErrorBody(code: -1121, msg: "Invalid symbol."))
    }

    @Test func exchangeInfo() throws {
        let info = try Fixtures.roundTrip(ExchangeInfoResponse.self, "rest-exchangeInfo.json")
        #expect(info.timezone == "UTC")
        #expect(info.serverTime == 1_565_246_363_776)
        // RateLimitRule has no public initializer (another helper owns it): compare its fields.
        #expect(info.rateLimits.map { "\($0.rateLimitType) \($0.interval) \($0.intervalNum) \($0.limit)" } == [
            "REQUEST_WEIGHT MINUTE 1 6000", "ORDERS SECOND 1 10", "RAW_REQUESTS MINUTE 5 61000",
        ])
        #expect(info.exchangeFilters == [
            .other(filterType: "EXCHANGE_MAX_NUM_ORDERS", fields: ["maxNumOrders": "1000"]),
            .other(filterType: "EXCHANGE_MAX_NUM_ALGO_ORDERS", fields: ["maxNumAlgoOrders": "200"]),
        ])
        #expect(info.sors == [SmartOrderRoutingInfo(baseAsset: "BTC", symbols: ["BTCUSDT", "BTCUSDC"])])
        let symbol = try #require(info.symbols.first)
        #expect(info.symbols.count == 1)
        #expect(symbol.symbol == "ETHBTC")
        #expect(symbol.status == "TRADING")
        #expect(symbol.baseAsset == "ETH")
        #expect(symbol.quoteAsset == "BTC")
        #expect(symbol.baseAssetPrecision == 8)
        #expect(symbol.quotePrecision == 8)
        #expect(symbol.quoteAssetPrecision == 8)
        #expect(symbol.baseCommissionPrecision == 8)
        #expect(symbol.quoteCommissionPrecision == 8)
        #expect(symbol.orderTypes == ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"])
        #expect(symbol.icebergAllowed && symbol.ocoAllowed && symbol.otoAllowed == true && symbol.opoAllowed == true)
        #expect(symbol.quoteOrderQtyMarketAllowed)
        #expect(!symbol.allowTrailingStop && !symbol.cancelReplaceAllowed && symbol.amendAllowed == false)
        #expect(symbol.pegInstructionsAllowed == true)
        #expect(symbol.isSpotTradingAllowed && symbol.isMarginTradingAllowed)
        #expect(symbol.permissions.isEmpty)
        #expect(symbol.permissionSets == [["SPOT", "MARGIN"]])
        #expect(symbol.defaultSelfTradePreventionMode == "NONE")
        #expect(symbol.allowedSelfTradePreventionModes == ["NONE"])
        #expect(symbol.filters.count == 15)
        #expect(symbol.filters.first == .priceFilter(minPrice: dec("0.000001"), maxPrice: dec("100000"), tickSize: dec("0.000001")))
    }

    @Test func depth() throws {
        let depth = try Fixtures.roundTrip(DepthResponse.self, "rest-depth.json")
        #expect(depth.lastUpdateId == 1_027_024)
        #expect(depth.bids == [["4.00000000", "431.00000000"]])
        #expect(depth.asks == [["4.00000200", "12.00000000"]])
        #expect(try depth.bidLevels() == [DepthLevel(price: Price(dec("4")), quantity: Quantity(dec("431")))])
        #expect(try depth.askLevels() == [DepthLevel(price: Price(dec("4.000002")), quantity: Quantity(dec("12")))])
        let rebuilt = DepthResponse(lastUpdateId: 1_027_024, bids: try depth.bidLevels(), asks: try depth.askLevels(), places: 8)
        #expect(rebuilt == depth)
    }

    @Test func klines() throws {
        let rows = try Fixtures.roundTrip([KlineRow].self, "rest-klines.json")
        #expect(rows == [KlineRow(openTime: 1_499_040_000_000, open: "0.01634790", high: "0.80000000", low: "0.01575800",
                                  close: "0.01577100", volume: "148976.11427815", closeTime: 1_499_644_799_999,
                                  quoteVolume: "2434.19055334", trades: 308, takerBuyBaseVolume: "1756.87402397",
                                  takerBuyQuoteVolume: "28.46694368", ignore: "0")])
    }

    @Test func tickerPrice() throws {
        let one = try Fixtures.roundTrip(TickerPriceResponse.self, "rest-ticker-price.json")
        #expect(one == TickerPriceResponse(symbol: "LTCBTC", price: "4.00000200"))
        #expect(try one.priceValue() == Price(dec("4.000002")))
        #expect(try one.symbolValue() == Symbol("LTCBTC"))
        let all = try Fixtures.roundTrip([TickerPriceResponse].self, "rest-ticker-price-list.json")
        #expect(all.map(\.symbol) == ["LTCBTC", "ETHBTC"])
        #expect(try all[1].priceValue() == Price(dec("0.079466")))
    }

    @Test func listenKey() throws {
        let response = try Fixtures.roundTrip(ListenKeyResponse.self, "rest-user-data-stream.json")
        #expect(response.listenKey == "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1")
    }

    @Test func orderAck() throws {
        let ack = try Fixtures.roundTrip(OrderResponse.self, "rest-order-ack.json")
        #expect(ack == OrderResponse(symbol: "BTCUSDT", orderId: 28, orderListId: -1, clientOrderId: "6gCrw2kRUAF9CvJDGP16IP",
                                     transactTime: 1_507_725_176_595))
        #expect(ack.status == nil && ack.fills == nil && ack.origQty == nil)
    }

    @Test func orderResultAndFull() throws {
        let result = try Fixtures.roundTrip(OrderResponse.self, "rest-order-result.json")
        let full = try Fixtures.roundTrip(OrderResponse.self, "rest-order-full.json")
        for response in [result, full] {
            #expect(response.symbol == "BTCUSDT")
            #expect(response.orderId == 28)
            #expect(response.orderListId == -1)
            #expect(response.clientOrderId == "6gCrw2kRUAF9CvJDGP16IP")
            #expect(response.transactTime == 1_507_725_176_595)
            #expect(response.price == "0.00000000")
            #expect(response.origQty == "10.00000000")
            #expect(response.executedQty == "10.00000000")
            #expect(response.origQuoteOrderQty == "0.000000")
            #expect(response.cummulativeQuoteQty == "10.00000000")
            #expect(response.status == "FILLED")
            #expect(response.timeInForce == "GTC")
            #expect(response.type == "MARKET")
            #expect(response.side == "SELL")
            #expect(response.workingTime == 1_507_725_176_595)
            #expect(response.selfTradePreventionMode == "NONE")
            #expect(try response.statusValue == .filled)
            #expect(try response.executedQuantity == Quantity(dec("10")))
        }
        #expect(result.fills == nil)
        let fills = try #require(full.fills)
        #expect(fills.map(\.tradeId) == [56, 57, 58, 59, 60])
        #expect(fills.map(\.price) == ["4000.00000000", "3999.00000000", "3998.00000000", "3997.00000000", "3995.00000000"])
        #expect(fills[1] == OrderFillResponse(price: "3999.00000000", qty: "5.00000000", commission: "19.99500000",
                                              commissionAsset: "USDT", tradeId: 57))
        #expect(try fills[1].commissionValue == dec("19.995"))
    }

    @Test func cancelOrder() throws {
        let cancel = try Fixtures.roundTrip(OrderResponse.self, "rest-order-cancel.json")
        #expect(cancel.symbol == "LTCBTC")
        #expect(cancel.origClientOrderId == "myOrder1")
        #expect(cancel.clientOrderId == "cancelMyOrder1")
        #expect(cancel.orderId == 4)
        #expect(cancel.transactTime == 1_684_804_350_068)
        #expect(cancel.price == "2.00000000")
        #expect(cancel.status == "CANCELED")
        #expect(cancel.time == nil && cancel.updateTime == nil)
    }

    @Test func queryOrderAndOpenOrders() throws {
        let query = try Fixtures.roundTrip(OrderResponse.self, "rest-order-query.json")
        let open = try Fixtures.roundTrip([OrderResponse].self, "rest-open-orders.json")
        #expect(open.count == 1)
        for response in [query] + open {
            #expect(response.symbol == "LTCBTC")
            #expect(response.orderId == 1)
            #expect(response.clientOrderId == "myOrder1")
            #expect(response.price == "0.1")
            #expect(response.origQty == "1.0")
            #expect(response.executedQty == "0.0")
            #expect(response.cummulativeQuoteQty == "0.0")
            #expect(response.status == "NEW")
            #expect(response.stopPrice == "0.0")
            #expect(response.icebergQty == "0.0")
            #expect(response.time == 1_499_827_319_559)
            #expect(response.updateTime == 1_499_827_319_559)
            #expect(response.isWorking == true)
            #expect(response.workingTime == 1_499_827_319_559)
            #expect(response.transactTime == nil && response.origClientOrderId == nil)
        }
    }

    @Test func account() throws {
        let account = try Fixtures.roundTrip(AccountResponse.self, "rest-account.json")
        #expect(account.makerCommission == 15 && account.takerCommission == 15)
        #expect(account.buyerCommission == 0 && account.sellerCommission == 0)
        #expect(account.commissionRates == CommissionRates(maker: "0.00150000", taker: "0.00150000", buyer: "0.00000000", seller: "0.00000000"))
        #expect(account.canTrade && account.canWithdraw && account.canDeposit)
        #expect(account.brokered == false && account.requireSelfTradePrevention == false && account.preventSor == false)
        #expect(account.updateTime == 123_456_789)
        #expect(account.accountType == "SPOT")
        #expect(account.balances == [AccountBalance(asset: "BTC", free: "4723846.89208129", locked: "0.00000000"),
                                     AccountBalance(asset: "LTC", free: "4763368.68006011", locked: "0.00000000")])
        #expect(account.permissions == ["SPOT"])
        #expect(account.uid == 354_937_868)
    }

    @Test func myTrades() throws {
        let trades = try Fixtures.roundTrip([MyTradeResponse].self, "rest-my-trades.json")
        #expect(trades == [MyTradeResponse(symbol: "BNBBTC", id: 28457, orderId: 100_234, orderListId: -1, price: "4.00000100",
                                           qty: "12.00000000", quoteQty: "48.000012", commission: "10.10000000",
                                           commissionAsset: "BNB", time: 1_499_865_549_590, isBuyer: true, isMaker: false,
                                           isBestMatch: true)])
    }
}
