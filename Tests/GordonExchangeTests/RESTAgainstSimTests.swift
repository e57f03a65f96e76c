import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Testing

/// The REST client against BinanceSim over real HTTP on loopback.
@Suite("REST client against BinanceSim")
struct RESTAgainstSimTests {
    @Test("market data: time, exchangeInfo filters, klines, ticker, depth")
    func marketData() async throws {
        try await withSim { sim in
            let client = try sim.client()
            try await client.ping()
            let serverTime = try await client.synchronizeClock()
            #expect(abs(serverTime - client.serverNowMilliseconds) < 2000)

            let info = try await client.exchangeInfo(symbols: [SimHarness.symbol])
            let symbolInfo = try #require(info.symbols.first)
            let filters = try symbolInfo.exchangeFilters()
            #expect(filters.tickSize == ExactDecimal(significand: 1, scale: 2))
            #expect(filters.stepSize == ExactDecimal(significand: 1, scale: 5))
            #expect(filters.minNotional == ExactDecimal(5))
            #expect(info.rateLimits.contains { $0.rateLimitType == "REQUEST_WEIGHT" })

            let klines = try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, limit: 100)
            #expect(klines.count == 100)
            #expect(klines.allSatisfy { $0.isClosed })
            #expect(zip(klines, klines.dropFirst()).allSatisfy { $1.openTime.milliseconds - $0.openTime.milliseconds == 60_000 })
            let last = try #require(klines.last)
            #expect(try await client.tickerPrice(symbol: SimHarness.symbol) == last.close)

            let first = try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, startTime: 1_704_067_200_000, limit: 3)
            #expect(first.map(\.openTime.milliseconds) == [1_704_067_200_000, 1_704_067_260_000, 1_704_067_320_000])

            let depth = try await client.depth(symbol: SimHarness.symbol, limit: 5)
            #expect(depth.bids.count == 5 && depth.asks.count == 5)
            let bestBid = try ExactDecimal(parsing: depth.bids[0][0])
            let bestAsk = try ExactDecimal(parsing: depth.asks[0][0])
            #expect(bestBid < bestAsk)
        }
    }

    @Test("orders: market fill, resting limit, query, open orders, cancel, trades, account")
    func orderLifecycle() async throws {
        try await withSim { sim in
            let client = try sim.client()
            let account = try await client.account()
            #expect(try account.domainBalances().first { $0.asset == .usdt }?.free == ExactDecimal(100_000))
            #expect(try account.feeModel() == FeeModel.binanceDefault)

            let buyId = try newClientOrderId("buy")
            let buy = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                            quantity: Quantity(parsing: "0.01"), clientOrderId: buyId))
            #expect(buy.status == "FILLED")
            #expect(buy.clientOrderId == buyId.rawValue)
            #expect(try buy.executedQuantity == Quantity(parsing: "0.01"))
            #expect(!(buy.fills ?? []).isEmpty)

            let price = try await client.tickerPrice(symbol: SimHarness.symbol)
            let below = try Price(price.value.multiplied(by: ExactDecimal(significand: 9, scale: 1)).rounded(scale: 2, rule: .down))
            let restId = try newClientOrderId("rest")
            let resting = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .limit, timeInForce: .gtc,
                                                                quantity: Quantity(parsing: "0.02"), price: below, clientOrderId: restId))
            #expect(resting.status == "NEW")
            let open = try await client.openOrders(symbol: SimHarness.symbol)
            #expect(open.map(\.clientOrderId) == [restId.rawValue])
            let queried = try await client.queryOrder(symbol: SimHarness.symbol, clientOrderId: restId)
            #expect(queried.orderId == resting.orderId && queried.status == "NEW")

            let canceled = try await client.cancelOrder(symbol: SimHarness.symbol, clientOrderId: restId)
            #expect(canceled.status == "CANCELED")
            #expect(try await client.openOrders(symbol: nil).isEmpty)
            await #expect(throws: GordonError.self) { _ = try await client.cancelOrder(symbol: SimHarness.symbol, clientOrderId: restId) }

            let trades = try await client.myTrades(symbol: SimHarness.symbol)
            #expect(trades.count == buy.fills?.count)
            #expect(trades.allSatisfy { $0.orderId == buy.orderId && $0.isBuyer })

            try await client.testOrder(NewOrder(symbol: SimHarness.symbol, side: .sell, type: .market,
                                                 quantity: Quantity(parsing: "0.001"), clientOrderId: newClientOrderId("test")))
            #expect(sim.simulator.placements(of: "test") == 0)
        }
    }

    @Test("Binance's errors arrive as typed GordonErrors")
    func typedErrors() async throws {
        try await withSim { sim in
            let client = try sim.client()
            func code(_ body: () async throws -> Void) async -> ErrorCode? {
                do { try await body(); return nil } catch let error as GordonError { return error.code } catch { return nil }
            }
            #expect(await code { _ = try await client.queryOrder(symbol: SimHarness.symbol, clientOrderId: newClientOrderId("none")) } == .unknownOrder)
            #expect(await code {
                _ = try await client.submitOrderOnce(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                               quantity: Quantity(parsing: "0.00001"), clientOrderId: newClientOrderId("tiny")))
            } == .filterFailure)
            #expect(await code {
                _ = try await client.submitOrderOnce(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                               quantity: Quantity(parsing: "90"), clientOrderId: newClientOrderId("rich")))
            } == .insufficientBalance)
            let wrongSecret = try sim.client(secret: Secret("not-the-secret"))
            #expect(await code { _ = try await wrongSecret.account() } == .exchangeAuthFailed)
            let wrongKey = try sim.client(apiKey: "unknown-key")
            #expect(await code { _ = try await wrongKey.account() } == .exchangeAuthFailed)

            // A duplicate client order id while the first order is open is Binance's -2010.
            let price = try await client.tickerPrice(symbol: SimHarness.symbol)
            let below = try Price(price.value.multiplied(by: ExactDecimal(significand: 8, scale: 1)).rounded(scale: 2, rule: .down))
            let id = try newClientOrderId("dup")
            let order = try NewOrder(symbol: SimHarness.symbol, side: .buy, type: .limit, timeInForce: .gtc,
                                     quantity: Quantity(parsing: "0.01"), price: below, clientOrderId: id)
            _ = try await client.submitOrderOnce(order)
            #expect(await code { _ = try await client.submitOrderOnce(order) } == .duplicateOrder)
            // placeOrder turns the duplicate into the existing order instead of a second one.
            let again = try await client.placeOrder(order)
            #expect(again.clientOrderId == id.rawValue && again.status == "NEW")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
        }
    }

    @Test("a path Binance does not serve: HTTP 404 with an HTML page, reported as a wrong base URL, not as a malformed reply")
    func unknownPath() async throws {
        try await withSim { sim in
            let raw = await sim.simulator.respond(method: "GET", path: "/api/v3/tickr/price", query: "symbol=BTCUSDT", body: nil, apiKey: nil)
            #expect(raw.status == 404 && raw.contentType == "text/html")
            #expect(String(decoding: raw.body, as: UTF8.self).contains("404 Not Found"))
            let misconfigured = try sim.client(endpoint: BinanceEndpoint(restBaseURL: sim.endpoint.restBaseURL + "/v1",
                                                                           streamBaseURL: sim.endpoint.streamBaseURL))
            do {
                _ = try await misconfigured.tickerPrice(symbol: SimHarness.symbol)
                Issue.record("a 404 was taken for an answer")
            } catch let error as GordonError {
                #expect(error.code == .invalidExchangeRequest)
                #expect(error.message.contains("no endpoint /api/v3/ticker/price") && error.message.contains("base URL"), "\(error.message)")
            }
        }
    }

    @Test("a skewed server clock is found by -1021 and resynchronised")
    func clockSkew() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 2000)
            try await client.synchronizeClock()
            sim.simulator.updateFaults { $0.clockSkewMilliseconds = 30_000 }
            let account = try await client.account()
            #expect(!account.balances.isEmpty)
            let log = sim.simulator.requestLog
            #expect(log.contains { $0.path == "/api/v3/account" && $0.status == 400 })
            #expect(log.last?.path == "/api/v3/account" && log.last?.status == 200)
            #expect(abs(client.serverNowMilliseconds - sim.simulator.serverTime) < 2000)
        }
    }

    @Test("an order whose ack is lost is placed once and found by query")
    func lostAck() async throws {
        try await withSim { sim in
            // The timeout leaves room for a loaded test machine; the ack comes well after it.
            let client = try sim.client(recvWindow: 1000, timeout: .milliseconds(1500), settle: .milliseconds(200))
            try await sim.synchronize(client)
            sim.simulator.updateFaults {
                $0.delayedAcks = 1
                $0.ackDelayMilliseconds = 4000
            }
            let id = try newClientOrderId("ack")
            let order = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                              quantity: Quantity(parsing: "0.01"), clientOrderId: id))
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
            // The delayed POST is logged once its late answer goes out.
            let posts = { sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" } }
            #expect(try await eventually(timeout: .seconds(5)) { posts().count == 1 })
            #expect(sim.simulator.requestLog.contains { $0.method == "GET" && $0.path == "/api/v3/order" && $0.status == 200 })
        }
    }

    @Test("an order lost before the matching engine is resent once, under the same id")
    func lostOrder() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 1000, timeout: .milliseconds(1500), settle: .milliseconds(200))
            try await sim.synchronize(client)
            sim.simulator.updateFaults {
                $0.lostOrders = 1
                $0.ackDelayMilliseconds = 3000
            }
            let id = try newClientOrderId("lost")
            let order = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                              quantity: Quantity(parsing: "0.01"), clientOrderId: id))
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
            // The lost POST is logged once its late 503 goes out.
            let posts = { sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" } }
            #expect(try await eventually(timeout: .seconds(10)) { posts().count == 2 })
            #expect(sim.simulator.requestLog.contains { $0.method == "GET" && $0.path == "/api/v3/order" && $0.status == 400 })
        }
    }

    @Test("a 5xx on placement is resolved by query, never by a blind resend")
    func serverErrorOnPlacement() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 1000, settle: .milliseconds(100))
            try await client.synchronizeClock()
            sim.simulator.updateFaults { $0.serverErrors = 1 }
            let id = try newClientOrderId("5xx")
            let order = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                              quantity: Quantity(parsing: "0.01"), clientOrderId: id))
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
        }
    }

    @Test("Binance frees a closed order's client order id: sent again as a first submission, it is a second order")
    func closedIdIsAcceptedAgain() async throws {
        try await withSim { sim in
            let client = try sim.client()
            try await client.synchronizeClock()
            let order = try NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market, quantity: Quantity(parsing: "0.01"),
                                     clientOrderId: newClientOrderId("again"))
            let first = try await client.placeOrder(order)
            let second = try await client.placeOrder(order)
            #expect(first.status == "FILLED" && second.status == "FILLED")
            #expect(first.orderId != second.orderId)
            #expect(sim.simulator.placements(of: order.clientOrderId.rawValue) == 2)
        }
    }

    @Test("a resubmission of a filled order finds it and sends nothing")
    func resubmissionOfAFilledOrder() async throws {
        try await withSim { sim in
            let client = try sim.client()
            try await client.synchronizeClock()
            let order = try NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market, quantity: Quantity(parsing: "0.01"),
                                     clientOrderId: newClientOrderId("resub"))
            let sentAt = client.serverNowMilliseconds
            let first = try await client.placeOrder(order)
            let posts = { sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" }.count }
            let again = try await client.placeOrder(order, history: .resubmission(lastSentServerTimestamp: sentAt))
            #expect(again.orderId == first.orderId)
            #expect(sim.simulator.placements(of: order.clientOrderId.rawValue) == 1)
            #expect(posts() == 1)
        }
    }

    @Test("a resubmission whose earlier send never arrived is sent once, after that send's recvWindow")
    func resubmissionAfterALostSend() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 1000, settle: .milliseconds(200))
            try await client.synchronizeClock()
            let order = try NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market, quantity: Quantity(parsing: "0.01"),
                                     clientOrderId: newClientOrderId("lostsend"))
            let lastSent = client.serverNowMilliseconds  // as the executor would have recorded it before a crash
            let placed = try await client.placeOrder(order, history: .resubmission(lastSentServerTimestamp: lastSent))
            #expect(placed.status == "FILLED")
            #expect(sim.simulator.placements(of: order.clientOrderId.rawValue) == 1)
            let log = sim.simulator.requestLog.filter { $0.path == "/api/v3/order" }
            // Looked for at once, again once the earlier send's window had passed, then sent.
            #expect(log.map(\.method) == ["GET", "GET", "POST"], "\(log)")
            #expect(log.prefix(2).allSatisfy { $0.status == 400 })
            #expect(log[1].serverTime >= lastSent + 1000, "queried again before the earlier send's recvWindow had passed")
        }
    }

    @Test("a placement whose resolution is cut short ends in orderOutcomeUnknown, never in an ordinary error")
    func cutShortResolutionIsOutcomeUnknown() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 5000, settle: .milliseconds(200))
            try await client.synchronizeClock()
            sim.simulator.updateFaults { $0.serverErrors = 1 }
            let order = try NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market, quantity: Quantity(parsing: "0.01"),
                                     clientOrderId: newClientOrderId("cut"))
            let placing = Task { () async -> Result<OrderResponse, GordonError> in
                do throws(GordonError) { return .success(try await client.placeOrder(order)) } catch { return .failure(error) }
            }
            // The 5xx has been answered: the client is now waiting out the recvWindow.
            #expect(try await eventually(timeout: .seconds(10)) {
                sim.simulator.requestLog.contains { $0.method == "POST" && $0.path == "/api/v3/order" && $0.status == 503 }
            })
            placing.cancel()
            switch await placing.value {
            case .success(let response):
                Issue.record("placed although cancelled: \(response.status)")
            case .failure(let error):
                #expect(error.code == .orderOutcomeUnknown, "\(error)")
                #expect(error.context["clientOrderId"] == order.clientOrderId.rawValue)
            }
        }
    }

    @Test("BinanceExecution rounds to the symbol's filters and maps to domain orders")
    func executionModel() async throws {
        try await withSim { sim in
            let client = try sim.client()
            let execution = BinanceExecution(rest: client, botOf: { _ in try! BotId("bot-1") })
            try await execution.loadRules(for: [SimHarness.symbol])
            let request = try OrderRequest(clientOrderId: newClientOrderId("exec"), botId: BotId("bot-1"), symbol: SimHarness.symbol,
                                           side: .buy, type: .market, quantity: Quantity(parsing: "0.0123456789"))
            let order = try await execution.submit(request)
            #expect(order.quantity == (try Quantity(parsing: "0.01234")))
            #expect(order.status == .filled)
            #expect(try await execution.order(symbol: SimHarness.symbol, clientOrderId: request.clientOrderId)?.status == .filled)
            #expect(try await execution.order(symbol: SimHarness.symbol, clientOrderId: newClientOrderId("never")) == nil)
            // Cancelling a finished order returns it as it is.
            #expect(try await execution.cancel(symbol: SimHarness.symbol, clientOrderId: request.clientOrderId).status == .filled)
            let balances = try await execution.balances()
            #expect(balances.first { $0.asset == .btc }?.free == ExactDecimal(2) + (try ExactDecimal(parsing: "0.01234")) - (try ExactDecimal(parsing: "0.00001234")))
        }
    }
}
