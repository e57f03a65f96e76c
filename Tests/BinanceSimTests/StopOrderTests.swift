import Testing
import GordonDomain
import GordonExchange
@testable import BinanceSim

func stop(_ type: OrderType, _ side: Side, _ quantity: String, stop: String, limit: String, _ tif: TimeInForce = .gtc) -> SimOrderParams {
    SimOrderParams(symbol: btcusdt, side: side, type: type, timeInForce: tif, quantity: d(quantity), price: d(limit), stopPrice: d(stop))
}

/// STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT: the protective orders a position leaves on the
/// exchange, and the MAX_NUM_ORDERS / MAX_NUM_ALGO_ORDERS filters that bound them.
@Suite("Stop-limit orders and the open-order filters")
struct StopOrderTests {
    @Test("a SELL STOP_LOSS_LIMIT waits off the book with its base locked, triggers when the price falls to the stop, then fills at its limit")
    func stopLossSellTriggersAndFills() throws {
        var core = makeCore()
        let (placed, events) = try core.place(stop(.stopLossLimit, .sell, "0.4", stop: "95", limit: "94.5"), now: 10)
        #expect(placed.status == .new)
        #expect(placed.workingTime == -1)
        #expect(placed.stopPrice == d("95"))
        #expect(labels(events) == ["NEW", "POSITION"])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: d("0.4")))

        // Above the stop, even a move whose range reaches the limit's side fills nothing:
        // a waiting stop is on no book.
        #expect(core.marketMoved(symbol: btcusdt, last: d("96"), low: d("95.01"), high: d("97"), now: 20).isEmpty)
        #expect(try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil).workingTime == -1)

        let triggered = core.marketMoved(symbol: btcusdt, last: d("94.8"), low: d("94.5"), high: d("95.2"), now: 30)
        #expect(labels(triggered) == ["TRADE", "POSITION"])
        let filled = try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil)
        #expect(filled.status == .filled)
        #expect(filled.workingTime == 30)
        #expect(filled.fills.map(\.price) == [d("94.5")])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: .zero))
    }

    @Test("a BUY TAKE_PROFIT_LIMIT triggers when the price falls to its stop; a BUY STOP_LOSS_LIMIT when it rises to it")
    func buySideTriggers() throws {
        var core = makeCore()
        let (takeProfit, _) = try core.place(stop(.takeProfitLimit, .buy, "0.1", stop: "98", limit: "98.5"), now: 10)
        let (stopLoss, _) = try core.place(stop(.stopLossLimit, .buy, "0.1", stop: "102", limit: "102.5"), now: 10)
        #expect(core.balance(.usdt).locked == d("9.85") + d("10.25"))
        _ = core.marketMoved(symbol: btcusdt, last: d("101"), low: d("99"), high: d("101.9"), now: 20)
        #expect(try core.order(symbol: btcusdt, orderId: takeProfit.orderId, origClientOrderId: nil).workingTime == -1)
        #expect(try core.order(symbol: btcusdt, orderId: stopLoss.orderId, origClientOrderId: nil).workingTime == -1)
        _ = core.marketMoved(symbol: btcusdt, last: d("102.2"), low: d("101"), high: d("102.4"), now: 30)
        #expect(try core.order(symbol: btcusdt, orderId: stopLoss.orderId, origClientOrderId: nil).status == .filled)
        _ = core.marketMoved(symbol: btcusdt, last: d("97.9"), low: d("97.9"), high: d("99"), now: 40)
        #expect(try core.order(symbol: btcusdt, orderId: takeProfit.orderId, origClientOrderId: nil).status == .filled)
        #expect(core.balance(.usdt).locked == .zero)
    }

    @Test("a stop the last price has already reached is refused: 'Order would trigger immediately.'")
    func wouldTriggerImmediately() {
        var core = makeCore()  // last 100.005
        #expect(rejection { _ = try core.place(stop(.stopLossLimit, .sell, "0.1", stop: "101", limit: "100"), now: 10) }
                == SimRejection.wouldTriggerImmediately)
        #expect(rejection { _ = try core.place(stop(.takeProfitLimit, .sell, "0.1", stop: "99", limit: "99"), now: 10) }
                == SimRejection.wouldTriggerImmediately)
        #expect(core.openOrders(symbol: nil).isEmpty)
    }

    @Test("a cancelled stop releases exactly what it locked")
    func cancelReleases() throws {
        var core = makeCore()
        let (placed, _) = try core.place(stop(.stopLossLimit, .sell, "0.25", stop: "90", limit: "89"), now: 10)
        _ = try core.cancel(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil, now: 20)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
    }

    @Test("stop-limit orders need timeInForce, price and stopPrice; stopPrice on another type is refused")
    func parameters() {
        var core = makeCore()
        var missingStop = stop(.stopLossLimit, .sell, "0.1", stop: "90", limit: "89")
        missingStop.stopPrice = nil
        #expect(rejection { _ = try core.place(missingStop, now: 10) } == SimRejection.mandatory("stopPrice"))
        var limitWithStop = limit(.buy, "0.1", at: "99")
        limitWithStop.stopPrice = d("98")
        #expect(rejection { _ = try core.place(limitWithStop, now: 10) } == SimRejection.notRequired("stopPrice"))
        #expect(rejection { _ = try core.place(stop(.stopLossLimit, .sell, "0.1", stop: "90.001", limit: "89"), now: 10) }?.message
                == "Filter failure: PRICE_FILTER")
    }

    @Test("MAX_NUM_ALGO_ORDERS bounds open stop orders and MAX_NUM_ORDERS all open orders")
    func openOrderFilters() throws {
        var spec = btcSpec()
        spec.maxNumAlgoOrders = 2
        spec.maxNumOrders = 3
        var core = SimExchangeCore(symbols: [spec], fees: testFees, balances: [.usdt: d("10000"), .btc: d("1")])
        _ = core.marketMoved(symbol: btcusdt, last: d("100"), low: d("100"), high: d("100"), now: 1)
        _ = try core.place(stop(.stopLossLimit, .sell, "0.1", stop: "90", limit: "89"), now: 2)
        _ = try core.place(stop(.stopLossLimit, .sell, "0.1", stop: "91", limit: "90"), now: 3)
        #expect(rejection { _ = try core.place(stop(.stopLossLimit, .sell, "0.1", stop: "92", limit: "91"), now: 4) }
                == SimRejection.filterFailure("MAX_NUM_ALGO_ORDERS"))
        _ = try core.place(limit(.buy, "0.1", at: "80"), now: 5)
        #expect(rejection { _ = try core.place(limit(.buy, "0.1", at: "81"), now: 6) } == SimRejection.filterFailure("MAX_NUM_ORDERS"))
    }

    @Test("PERCENT_PRICE_BY_SIDE refuses a limit price outside its side's band around the last price")
    func percentPriceBySide() throws {
        var spec = btcSpec()
        spec.percentPriceBySide = PercentPriceBySide(bidMultiplierUp: d("1.1"), bidMultiplierDown: d("0.9"),
                                                     askMultiplierUp: d("1.2"), askMultiplierDown: d("0.95"), avgPriceMins: 0)
        var core = SimExchangeCore(symbols: [spec], fees: testFees, balances: [.usdt: d("10000"), .btc: d("1")])
        _ = core.marketMoved(symbol: btcusdt, last: d("100"), low: d("100"), high: d("100"), now: 1)
        #expect(rejection { _ = try core.place(limit(.buy, "0.1", at: "89.99"), now: 2) } == SimRejection.filterFailure("PERCENT_PRICE_BY_SIDE"))
        _ = try core.place(limit(.buy, "0.1", at: "90"), now: 3)
        #expect(rejection { _ = try core.place(limit(.sell, "0.1", at: "120.01"), now: 4) } == SimRejection.filterFailure("PERCENT_PRICE_BY_SIDE"))
        #expect(rejection { _ = try core.place(limit(.sell, "0.1", at: "94.99"), now: 5) } == SimRejection.filterFailure("PERCENT_PRICE_BY_SIDE"))
        _ = try core.place(limit(.sell, "0.1", at: "119"), now: 6)
        // A MARKET order has no limit price to check.
        _ = try core.place(market(.buy, quantity: "0.1"), now: 7)
    }
}

/// Self-trade prevention: two strategies on one account meet in the book.
@Suite("Self-trade prevention")
struct SelfTradePreventionTests {
    /// An own SELL resting inside the spread (asks start at 100.01), then an own MARKET BUY
    /// that would take it first.
    func meet(_ mode: String?) throws -> (core: SimExchangeCore, maker: SimOrder, taker: SimOrder, events: [SimEvent]) {
        var core = makeCore()
        let (maker, _) = try core.place(limit(.sell, "0.2", at: "100.01"), now: 10)
        var buy = market(.buy, quantity: "0.3")
        buy.selfTradePreventionMode = mode
        let (taker, events) = try core.place(buy, now: 20)
        return (core, try core.order(symbol: btcusdt, orderId: maker.orderId, origClientOrderId: nil), taker, events)
    }

    @Test("EXPIRE_MAKER: the own resting order expires in match, its lock released; the taker trades on")
    func expireMaker() throws {
        let (core, maker, taker, events) = try meet("EXPIRE_MAKER")
        #expect(maker.status == .expiredInMatch)
        #expect(maker.preventedMatchId == 1)
        #expect(taker.status == .filled)
        #expect(labels(events).prefix(2) == ["NEW", "TRADE_PREVENTION"])
        #expect(core.balance(.btc).locked == .zero)
    }

    @Test("EXPIRE_TAKER: the taker expires in match before the own order's price, the maker stays")
    func expireTaker() throws {
        let (core, maker, taker, events) = try meet("EXPIRE_TAKER")
        #expect(maker.status == .new)
        #expect(taker.status == .expiredInMatch)
        #expect(taker.executedQty == .zero)  // the own order was first in line
        #expect(labels(events).contains("TRADE_PREVENTION"))
        #expect(core.balance(.btc).locked == d("0.2"))
    }

    @Test("EXPIRE_BOTH expires both; NONE leaves the own order out of the match")
    func expireBothAndNone() throws {
        let both = try meet("EXPIRE_BOTH")
        #expect(both.maker.status == .expiredInMatch && both.taker.status == .expiredInMatch)
        #expect(both.maker.preventedMatchId == both.taker.preventedMatchId)
        let none = try meet("NONE")
        #expect(none.maker.status == .new && none.taker.status == .filled)
    }

    @Test("a mode the symbol does not allow is refused")
    func modeNotAllowed() {
        var core = makeCore()
        var buy = market(.buy, quantity: "0.1")
        buy.selfTradePreventionMode = "DECREMENT"
        #expect(rejection { _ = try core.place(buy, now: 1) } == SimRejection.selfTradePreventionModeNotAllowed)
    }
}
