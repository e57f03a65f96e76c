import GordonDomain
import GordonKernel
import Testing
@testable import GordonStrategy

@Suite struct BacktestExecutionTests {
    let symbol = try! Symbol("BTCUSDT")
    let bot = try! BotId("backtest")

    func request(_ id: String, _ side: Side, _ type: OrderType = .market, quantity: String, price: String? = nil,
                 timeInForce: TimeInForce? = nil) throws -> OrderRequest {
        try OrderRequest(clientOrderId: ClientOrderId(id), botId: bot, symbol: symbol, side: side, type: type,
                         timeInForce: timeInForce ?? (type == .limit ? .gtc : nil), price: price.map { try Price(parsing: $0) },
                         quantity: Quantity(parsing: quantity))
    }

    func bar(_ open: Double, _ high: Double, _ low: Double, _ close: Double, minute: Int64 = 0) -> Bar {
        Bar(openTime: 1_700_000_040_000 + minute * 60_000, open: open, high: high, low: low, close: close, volume: 1)
    }

    @Test func marketOrderFillsAtTheOpenWithCommissionAndIsIdempotent() async throws {
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 1000))
        try exchange.open(bar: bar(100, 101, 99, 100.5))
        let buy = try request("a-1", .buy, quantity: "2")
        let order = try await exchange.submit(buy)
        #expect(order.status == .filled)
        #expect(order.cumulativeQuoteQuantity == decimal("200"))
        // Resubmitting the same id (a retry after a timeout) returns the order, never a second fill.
        let again = try await exchange.submit(buy)
        #expect(again == order)
        let book = exchange.snapshot
        #expect(exchange.fills.count == 1)
        #expect(book.cash == decimal("799.8"))  // 1000 − 200 − 0.2 commission (0.1%)
        #expect(book.base == decimal("2"))
        #expect(book.totalCommission == decimal("0.2"))
        let balances = try await exchange.balances()
        #expect(balances.map(\.asset.rawValue) == ["USDT", "BTC"])
        // Same id with different terms is a conflict, not a new order.
        await #expect(throws: GordonError.self) { try await exchange.submit(try request("a-1", .buy, quantity: "3")) }
    }

    @Test func limitOrderRestsLocksCashAndFillsWhenTheRangeReachesIt() async throws {
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 1000))
        try exchange.open(bar: bar(100, 101, 99, 100))
        let order = try await exchange.submit(try request("l-1", .buy, .limit, quantity: "1", price: "95"))
        #expect(order.status == .new)
        #expect(exchange.snapshot.lockedCash == decimal("95.095"))
        #expect(try await exchange.openOrders(symbol: nil).count == 1)
        try exchange.open(bar: bar(98, 99, 96, 97, minute: 1))  // low 96: not reached
        #expect(try await exchange.order(symbol: symbol, clientOrderId: ClientOrderId("l-1"))?.status == .new)
        try exchange.open(bar: bar(97, 97, 94, 96, minute: 2))  // low 94 reaches 95: fills at the limit, as maker
        let filled = try #require(try await exchange.order(symbol: symbol, clientOrderId: ClientOrderId("l-1")))
        #expect(filled.status == .filled)
        let book = exchange.snapshot
        #expect(book.lockedCash == .zero)
        #expect(exchange.fills.single?.price == (try Price(parsing: "95")))
        #expect(exchange.fills.single?.isMaker == true)
        #expect(book.cash == decimal("904.905"))
    }

    @Test func gapThroughALimitFillsAtTheOpen() throws {
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 1000, fees: .free))
        try exchange.open(bar: bar(100, 101, 99, 100))
        _ = try exchange.place(try request("l-2", .buy, .limit, quantity: "1", price: "95"))
        try exchange.open(bar: bar(90, 91, 89, 90, minute: 1))
        #expect(exchange.fills.single?.price == (try Price(parsing: "90")))
    }

    @Test func cancelReleasesTheLockAndIsStableOnTerminalOrders() async throws {
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 1000))
        try exchange.open(bar: bar(100, 101, 99, 100))
        _ = try await exchange.submit(try request("c-1", .buy, .limit, quantity: "1", price: "90"))
        let canceled = try await exchange.cancel(symbol: symbol, clientOrderId: ClientOrderId("c-1"))
        #expect(canceled.status == .canceled)
        #expect(exchange.snapshot.cash == decimal("1000"))
        #expect(try await exchange.cancel(symbol: symbol, clientOrderId: ClientOrderId("c-1")) == canceled)
        await #expect(throws: GordonError.self) { try await exchange.cancel(symbol: symbol, clientOrderId: ClientOrderId("none")) }
        #expect(try await exchange.order(symbol: symbol, clientOrderId: ClientOrderId("none")) == nil)
    }

    @Test func refusesWhatTheBalanceOrFiltersDoNotAllow() throws {
        let filters = ExchangeFilters(tickSize: decimal("0.01"), stepSize: decimal("0.001"), minNotional: decimal("5"))
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 100, filters: filters))
        try exchange.open(bar: bar(100, 101, 99, 100))
        #expect { try exchange.place(try request("b-1", .buy, quantity: "1.5")) } throws: {
            ($0 as! GordonError).code == .insufficientBalance
        }
        #expect { try exchange.place(try request("b-2", .buy, quantity: "0.01")) } throws: {
            let error = $0 as! GordonError
            return error.code == .filterFailure && error.context["filter"] == "NOTIONAL"
        }
        #expect { try exchange.place(try request("b-3", .buy, quantity: "0.0505")) } throws: {
            ($0 as! GordonError).context["filter"] == "LOT_SIZE"
        }
        #expect { try exchange.place(try request("s-1", .sell, quantity: "0.1")) } throws: {
            ($0 as! GordonError).code == .insufficientBalance
        }
        #expect(exchange.snapshot.cash == decimal("100"))
    }

    @Test func iocLimitThatCannotFillExpires() throws {
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: BacktestSettings(initialCash: 1000))
        try exchange.open(bar: bar(100, 101, 99, 100))
        let order = try exchange.place(try request("i-1", .buy, .limit, quantity: "1", price: "99", timeInForce: .ioc))
        #expect(order.status == .expired)
        #expect(exchange.snapshot.cash == decimal("1000"))
    }

    @Test func slippageMovesFillsAgainstTheTraderOntoTheTickGrid() throws {
        let settings = BacktestSettings(initialCash: 10_000, fees: .free, slippage: decimal("0.001"),
                                        filters: ExchangeFilters(tickSize: decimal("0.01")))
        let exchange = BacktestExecution(symbol: symbol, priceDecimals: 2, settings: settings)
        try exchange.open(bar: bar(100.05, 101, 99, 100))
        _ = try exchange.place(try request("s-1", .buy, quantity: "1"))
        _ = try exchange.place(try request("s-2", .sell, quantity: "1"))
        // 100.05 × 1.001 = 100.15005 → up to 100.16; × 0.999 = 99.94995 → down to 99.94.
        #expect(exchange.fills.map(\.price.description) == ["100.16", "99.94"])
    }
}

@Suite struct FeesAndFiltersTests {
    @Test func binanceDefaultAndBNBDiscount() throws {
        #expect(FeeModel.binanceDefault.commission(notional: decimal("1000"), isMaker: false) == decimal("1"))
        var bnb = FeeModel.binanceDefault
        bnb.payWithBNB = true
        #expect(bnb.commission(notional: decimal("1000"), isMaker: true) == decimal("0.75"))
        let bps = try FeeModel(makerBps: decimal("7.5"), takerBps: decimal("10"))
        #expect(bps.makerRate == decimal("0.00075"))
        #expect(bps.takerRate == decimal("0.001"))
    }

    @Test func roundingNeverWorsensTheOrder() throws {
        let filters = ExchangeFilters(tickSize: decimal("0.05"), stepSize: decimal("0.001"), marketStepSize: decimal("0.01"))
        #expect(try filters.roundedPrice(Price(parsing: "100.07"), side: .buy).description == "100.05")
        #expect(try filters.roundedPrice(Price(parsing: "100.07"), side: .sell).description == "100.1")
        #expect(try filters.roundedQuantity(Quantity(parsing: "1.23456"), type: .limit).description == "1.234")
        #expect(try filters.roundedQuantity(Quantity(parsing: "1.23456"), type: .market).description == "1.23")
        #expect(try filters.roundedPrice(Price(parsing: "100.07"), side: .buy) == ExchangeFilters.none.roundedPrice(Price(parsing: "100.05"), side: .buy))
    }

    @Test func validationNamesTheFilter() throws {
        let filters = ExchangeFilters(tickSize: decimal("0.01"), minPrice: decimal("1"), maxPrice: decimal("1000"),
                                      stepSize: decimal("0.1"), minQuantity: decimal("0.1"), maxQuantity: decimal("100"),
                                      marketMaxQuantity: decimal("10"), minNotional: decimal("10"), maxNotional: decimal("50000"))
        func failing(_ type: OrderType, _ price: String, _ quantity: String) -> String? {
            do {
                try filters.validate(type: type, price: Price(parsing: price), quantity: Quantity(parsing: quantity))
                return nil
            } catch { return error.context["filter"] }
        }
        #expect(failing(.limit, "100", "1") == nil)
        #expect(failing(.limit, "100.001", "1") == "PRICE_FILTER")
        #expect(failing(.limit, "0.5", "100") == "PRICE_FILTER")
        #expect(failing(.limit, "100", "1.05") == "LOT_SIZE")
        #expect(failing(.limit, "100", "0.05") == "LOT_SIZE")
        #expect(failing(.market, "100", "20") == "MARKET_LOT_SIZE")
        #expect(failing(.limit, "50", "0.1") == "NOTIONAL")
        #expect(failing(.limit, "999", "99") == "NOTIONAL")
    }
}

@Suite struct BacktesterTests {
    let series = SyntheticMarket(seed: 42).generate(count: 30_000, symbol: try! Symbol("BTCUSDT"), interval: .oneMinute,
                                                    startOpenTime: 1_577_836_800_000)

    func plan(_ overlays: [StrategyConfig] = []) -> TradingPlan {
        TradingPlan(strategy: StrategyConfig(name: "ema_crossover", parameters: ["fast": 20, "slow": 60]), overlays: overlays)
    }

    /// Replays the fills exactly: at every bar's close, cash + position × close is the
    /// equity the backtest reported; cash and position never go negative; commissions add up.
    @Test func accountingInvariantsHoldAtEveryBar() throws {
        let settings = BacktestSettings(initialCash: 10_000, slippage: decimal("0.0005"),
                                        filters: ExchangeFilters(tickSize: decimal("0.01"), stepSize: decimal("0.0001")))
        let result = try Backtester(settings: settings).run(plan([StrategyConfig(name: "stop_loss", parameters: ["percent": 1])]),
                                                            on: series)
        #expect(result.trades.count > 20)
        var cash = decimal("10000"), base = ExactDecimal.zero, fillIndex = 0, commission = ExactDecimal.zero
        for index in series.indices {
            let closeTime = series.interval.closeTime(forOpenTime: series.openTime[index])
            while fillIndex < result.fills.count, result.fills[fillIndex].time.milliseconds <= closeTime {
                let fill = result.fills[fillIndex]
                if fill.side == .buy {
                    cash -= fill.quoteQuantity + fill.commission
                    base += fill.quantity.value
                } else {
                    cash += fill.quoteQuantity - fill.commission
                    base -= fill.quantity.value
                }
                commission += fill.commission
                fillIndex += 1
                #expect(!cash.isNegative && !base.isNegative)
            }
            let equity = (cash + base * series.exactPrice(series.close[index]).value).doubleApproximation
            #expect(abs(equity - result.equity[index]) <= 1e-9 * equity, "bar \(index)")
        }
        #expect(fillIndex == result.fills.count)
        #expect(cash == result.finalCash)
        #expect(base == result.finalPosition)
        #expect(commission == result.totalCommission)
        #expect(result.trades.reduce(ExactDecimal.zero) { $0 + $1.commission } == result.totalCommission)
        #expect(result.trades.reduce(decimal("10000")) { $0 + $1.profit } == result.finalCash)
    }

    @Test func sameInputGivesByteIdenticalFiles() throws {
        let first = try Backtester().run(plan([StrategyConfig(name: "trailing_stop")]), on: series)
        let second = try Backtester().run(plan([StrategyConfig(name: "trailing_stop")]), on: series)
        #expect(BacktestReport.tradesCSV(first) == BacktestReport.tradesCSV(second))
        #expect(BacktestReport.equityCSV(first) == BacktestReport.equityCSV(second))
        #expect(BacktestReport.equitySVG(first, title: "t") == BacktestReport.equitySVG(second, title: "t"))
        #expect(BacktestReport.tradesCSV(first).hasPrefix(BacktestReport.tradesHeader + "\n"))
        #expect(BacktestReport.tradesCSV(first).split(separator: "\n").count == first.trades.count + 1)
    }

    @Test func entriesFillAtTheNextOpenOrTheSameClose() throws {
        let nextOpen = try Backtester().run(plan(), on: series)
        let trade = try #require(nextOpen.trades.first)
        #expect(trade.entryPrice == series.exactPrice(series.open[trade.entryIndex]))
        #expect(trade.exitPrice == series.exactPrice(series.open[trade.exitIndex]) || trade.exitReason == "end of data")
        let sameClose = try Backtester(settings: BacktestSettings(fillTiming: .sameClose)).run(plan(), on: series)
        let first = try #require(sameClose.trades.first)
        #expect(first.entryIndex == trade.entryIndex - 1)
        #expect(first.entryPrice == series.exactPrice(series.close[first.entryIndex]))
    }

    @Test func tradesAreSizedAsAFractionOfEquity() throws {
        var sized = plan()
        sized.sizing = StrategyConfig(name: "fixed_fraction", parameters: ["fraction": 0.5])
        let result = try Backtester(settings: BacktestSettings(initialCash: 10_000, fees: .free)).run(sized, on: series)
        let trade = try #require(result.trades.first)
        let notional = (trade.entryPrice.value * trade.quantity.value).doubleApproximation
        #expect(abs(notional - 5000) < trade.entryPrice.value.doubleApproximation * 1e-8 + 1e-6)
        var capped = sized
        capped.maxExposure = 0.25
        let cappedTrade = try #require(try Backtester(settings: BacktestSettings(initialCash: 10_000, fees: .free)).run(capped, on: series).trades.first)
        #expect(abs((cappedTrade.entryPrice.value * cappedTrade.quantity.value).doubleApproximation - 2500) < 1e-3)
    }

    @Test func kellyAndVolatilitySizingStayWithinTheirCaps() throws {
        for sizing in [StrategyConfig(name: "kelly", parameters: ["cap": 0.3, "min_trades": 5, "initial_fraction": 0.1]),
                       StrategyConfig(name: "volatility_target", parameters: ["target": 0.2, "max_fraction": 0.6])] {
            var sized = plan()
            sized.sizing = sizing
            let result = try Backtester(settings: BacktestSettings(fees: .free)).run(sized, on: series)
            #expect(!result.trades.isEmpty)
            for trade in result.trades {
                let before = trade.entryIndex > 0 ? result.equity[trade.entryIndex - 1] : 10_000
                let notional = (trade.entryPrice.value * trade.quantity.value).doubleApproximation
                #expect(notional <= before * (sizing.name == "kelly" ? 0.3 : 0.6) * 1.01, "\(sizing.name)")
            }
        }
        var kelly = plan()
        kelly.sizing = StrategyConfig(name: "kelly", parameters: ["min_trades": 5, "initial_fraction": 0.1])
        let first = try #require(try Backtester(settings: BacktestSettings(fees: .free)).run(kelly, on: series).trades.first)
        #expect(abs((first.entryPrice.value * first.quantity.value).doubleApproximation - 1000) < 1)
    }

    @Test func warmUpBarsAreNotTraded() throws {
        let result = try Backtester().run(plan(), on: series, tradeFrom: 10_000)
        #expect(result.trades.allSatisfy { $0.entryIndex > 10_000 })
        #expect(result.equity[9_999] == 10_000)
    }
}

/// A strategy that tries to read the future through every accessor the context offers.
struct Cheater: Strategy {
    var name: String { "cheater" }
    var warmUp: Int { 1 }
    var sawFuture = false
    var calls = 0
    mutating func next(_ context: MarketContext) -> Signal {
        calls += 1
        if context.bar(ago: -1) != nil || context.close(ago: -1) != nil { sawFuture = true }
        if context.barCount != calls || context.bar(ago: context.index + 1) != nil { sawFuture = true }
        if let latest = context.latestBar(symbol: context.symbol, interval: context.interval), latest != context.bar { sawFuture = true }
        return .hold
    }
}

@Suite struct NoLookAheadTests {
    @Test func theContextOffersNothingBeyondTheClosedBar() {
        let series = craftedSeries((0..<50).map { 100 + Double($0) })
        var cheater = Cheater()
        var context = MarketContext(series: series)
        while context.advance() {
            _ = cheater.next(context)
            #expect(context.close == series.close[context.index])
        }
        #expect(cheater.calls == 50)
        #expect(!cheater.sawFuture)
    }

    @Test func anotherIntervalShowsOnlyItsClosedBars() throws {
        let minutes = craftedSeries((0..<120).map { 100 + Double($0) })
        var hours = BarSeries(symbol: minutes.symbol, interval: .oneHour, priceDecimals: 2)
        hours.append(Bar(openTime: 1_699_999_200_000, open: 1, high: 2, low: 1, close: 2, volume: 1))
        hours.append(Bar(openTime: 1_700_002_800_000, open: 2, high: 3, low: 2, close: 3, volume: 1))
        var context = MarketContext(series: minutes, others: [hours])
        var seen: [Double?] = []
        while context.advance() { seen.append(context.latestBar(symbol: minutes.symbol, interval: .oneHour)?.close) }
        // The second hour closes at 1_700_006_399_999; its value appears only from the minute closing then.
        let firstWithSecondHour = seen.firstIndex { $0 == 3 }!
        #expect(minutes.interval.closeTime(forOpenTime: minutes.openTime[firstWithSecondHour]) >= 1_700_006_399_999)
        #expect(seen[firstWithSecondHour - 1] == 2)
    }

    @Test func aStrategyIsTheSameWhateverFollows() throws {
        // Signals up to bar N must not change when later bars change.
        let base = SyntheticMarket(seed: 3).generate(count: 5_000, symbol: try Symbol("BTCUSDT"), interval: .oneMinute,
                                                     startOpenTime: 1_577_836_800_000)
        let truncated = base.slice(0..<3_000)
        for descriptor in StrategyCatalog.all {
            let full = signals(try descriptor.make(), on: base).filter { $0.0 < 3_000 }
            let cut = signals(try descriptor.make(), on: truncated)
            #expect(full.map(\.0) == cut.map(\.0), "\(descriptor.name)")
        }
    }
}

extension Array {
    var single: Element? { count == 1 ? first : nil }
}
