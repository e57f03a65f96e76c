import Testing
import GordonDomain
@testable import BinanceSim

@Suite("LIMIT and LIMIT_MAKER orders")
struct LimitOrderTests {
    @Test("a resting GTC BUY locks price × qty, fills as maker over two moves, and releases the lock exactly")
    func restsThenFillsInTwoSteps() throws {
        var core = makeCore()
        let (placed, placedEvents) = try core.place(limit(.buy, "0.8", at: "99.50"), now: 10)
        #expect(placed.status == .new)
        #expect(labels(placedEvents) == ["NEW", "POSITION"])
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9920.4"), locked: d("79.6")))
        #expect(core.openOrders(symbol: btcusdt).map(\.orderId) == [placed.orderId])

        // A move that does not reach 99.50 fills nothing.
        #expect(core.marketMoved(symbol: btcusdt, last: d("99.8"), low: d("99.51"), high: d("99.9"), now: 20).isEmpty)

        let first = core.marketMoved(symbol: btcusdt, last: d("99.6"), low: d("99.4"), high: d("99.8"), now: 30)
        #expect(labels(first) == ["TRADE", "POSITION"])
        let partial = try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil)
        #expect(partial.status == .partiallyFilled)
        #expect(partial.executedQty == d("0.5"))
        #expect(partial.fills.last?.isMaker == true)
        #expect(partial.fills.last?.price == d("99.50"))
        #expect(partial.fills.last?.commission == d("0.00025"))
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9920.4"), locked: d("29.85")))
        #expect(core.balance(.btc).free == d("1.49975"))

        let second = core.marketMoved(symbol: btcusdt, last: d("99.5"), low: d("99.5"), high: d("99.5"), now: 40)
        #expect(labels(second) == ["TRADE", "POSITION"])
        let filled = try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil)
        #expect(filled.status == .filled)
        #expect(filled.executedQty == d("0.8"))
        #expect(filled.cummulativeQuoteQty == d("79.6"))
        #expect(filled.updateTime == 40)
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9920.4"), locked: .zero))
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1.7996"), locked: .zero))
        #expect(core.openOrders(symbol: nil).isEmpty)
    }

    @Test("a resting SELL fills when the high reaches it")
    func restingSellFills() throws {
        var core = makeCore()
        let (placed, _) = try core.place(limit(.sell, "0.4", at: "101"), now: 10)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: d("0.4")))
        _ = core.marketMoved(symbol: btcusdt, last: d("100.5"), low: d("100.2"), high: d("101.2"), now: 20)
        let filled = try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil)
        #expect(filled.status == .filled)
        // 40.4 less the 0.05% maker fee 0.0202
        #expect(core.balance(.usdt).free == d("10040.3798"))
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: .zero))
    }

    @Test("a crossing GTC BUY takes the levels up to its price as taker, with price improvement, and rests the rest")
    func crossingGtcRestsRemainder() throws {
        var core = makeCore()
        let (order, events) = try core.place(limit(.buy, "1.5", at: "100.02"), now: 10)
        #expect(order.status == .partiallyFilled)
        #expect(order.executedQty == d("1"))
        #expect(order.fills.allSatisfy { !$0.isMaker })
        #expect(labels(events) == ["NEW", "TRADE", "TRADE", "POSITION"])
        // Paid 100.015 for 1 BTC; 0.5 × 100.02 stays locked.
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9849.975"), locked: d("50.01")))
    }

    @Test("IOC fills what crosses and expires the rest, releasing its lock")
    func iocPartial() throws {
        var core = makeCore()
        let (order, events) = try core.place(limit(.buy, "2", at: "100.02", .ioc), now: 10)
        #expect(order.status == .expired)
        #expect(order.executedQty == d("1"))
        #expect(labels(events) == ["NEW", "TRADE", "TRADE", "EXPIRED", "POSITION"])
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9899.985"), locked: .zero))
        #expect(core.openOrders(symbol: btcusdt).isEmpty)
    }

    @Test("FOK fills everything or expires with nothing")
    func fokAllOrNothing() throws {
        var core = makeCore()
        let (killed, killedEvents) = try core.place(limit(.buy, "1.2", at: "100.02", .fok), now: 10)
        #expect(killed.status == .expired)
        #expect(killed.executedQty.isZero)
        #expect(labels(killedEvents) == ["NEW", "EXPIRED"])
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("10000"), locked: .zero))
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 10).isEmpty)

        let (filled, _) = try core.place(limit(.buy, "0.8", at: "100.02", .fok), now: 11)
        #expect(filled.status == .filled)
        #expect(filled.fills.map(\.price) == [d("100.01"), d("100.02")])
    }

    @Test("LIMIT_MAKER that would take is rejected; one below the ask rests")
    func limitMaker() throws {
        var core = makeCore()
        let wouldTake = SimRejection(code: -2010, message: "Order would immediately match and take.")
        #expect(rejection { _ = try core.place(maker(.buy, "0.1", at: "100.01"), now: 10) } == wouldTake)
        #expect(rejection { _ = try core.place(maker(.sell, "0.1", at: "100.00"), now: 10) } == wouldTake)
        #expect(core.balance(.usdt).locked.isZero)
        let (order, _) = try core.place(maker(.buy, "0.1", at: "100.00"), now: 10)
        #expect(order.status == .new)
        #expect(order.type == .limitMaker)
        #expect(core.balance(.usdt).locked == d("10"))
    }

    @Test("with no price yet a LIMIT order rests without trading")
    func limitBeforeFirstPrice() throws {
        var core = makeCore(priced: false)
        let (order, _) = try core.place(limit(.buy, "0.1", at: "200"), now: 1)
        #expect(order.status == .new)
    }
}
