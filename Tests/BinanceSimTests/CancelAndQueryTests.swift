import Testing
import GordonDomain
@testable import BinanceSim

@Suite("Cancel, query, client order ids and ids")
struct CancelAndQueryTests {
    @Test("cancel releases a SELL's base lock exactly and reports CANCELED")
    func cancelReleasesLock() throws {
        var core = makeCore()
        let (placed, _) = try core.place(limit(.sell, "0.7", at: "101"), now: 10)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.3"), locked: d("0.7")))
        let (canceled, events) = try core.cancel(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil, now: 20)
        #expect(canceled.status == .canceled)
        #expect(canceled.updateTime == 20)
        #expect(labels(events) == ["CANCELED", "POSITION"])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
        #expect(core.openOrders(symbol: btcusdt).isEmpty)
    }

    @Test("cancel of a partially filled BUY releases only the remainder's lock")
    func cancelAfterPartialFill() throws {
        var core = makeCore()
        let (placed, _) = try core.place(limit(.buy, "0.8", at: "99.50"), now: 10)
        _ = core.marketMoved(symbol: btcusdt, last: d("99.5"), low: d("99.5"), high: d("99.5"), now: 20)
        let (canceled, _) = try core.cancel(symbol: btcusdt, orderId: nil, origClientOrderId: placed.clientOrderId, now: 30)
        #expect(canceled.status == .canceled)
        #expect(canceled.executedQty == d("0.5"))
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9950.25"), locked: .zero))
    }

    @Test("canceling twice, or an unknown order, is -2011; no reference at all is -1102")
    func cancelErrors() throws {
        var core = makeCore()
        let (placed, _) = try core.place(limit(.buy, "0.1", at: "99"), now: 10)
        _ = try core.cancel(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil, now: 11)
        let unknown = SimRejection(code: -2011, message: "Unknown order sent.")
        #expect(rejection { _ = try core.cancel(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: nil, now: 12) } == unknown)
        #expect(rejection { _ = try core.cancel(symbol: btcusdt, orderId: 99, origClientOrderId: nil, now: 12) } == unknown)
        #expect(rejection { _ = try core.cancel(symbol: btcusdt, orderId: nil, origClientOrderId: nil, now: 12) }
                == SimRejection(code: -1102, message: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"))
        let (market, _) = try core.place(market(.buy, quantity: "0.1"), now: 13)
        #expect(rejection { _ = try core.cancel(symbol: btcusdt, orderId: market.orderId, origClientOrderId: nil, now: 14) } == unknown)
    }

    @Test("querying an unknown order is -2013; a mismatched client id with the orderId is unknown too")
    func queryUnknown() throws {
        var core = makeCore()
        let notFound = SimRejection(code: -2013, message: "Order does not exist.")
        #expect(rejection { _ = try core.order(symbol: btcusdt, orderId: 1, origClientOrderId: nil) } == notFound)
        #expect(rejection { _ = try core.order(symbol: btcusdt, orderId: nil, origClientOrderId: "nope") } == notFound)
        let (placed, _) = try core.place(limit(.buy, "0.1", at: "99", id: "mine"), now: 10)
        #expect(try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: "mine") == placed)
        #expect(rejection { _ = try core.order(symbol: btcusdt, orderId: placed.orderId, origClientOrderId: "other") } == notFound)
        #expect(rejection { _ = try core.order(symbol: try Symbol("XRPUSDT"), orderId: 1, origClientOrderId: nil) }
                == SimRejection(code: -1121, message: "Invalid symbol."))
    }

    @Test("a client id in use by an open order is a duplicate; once closed it may be reused and the newest is found")
    func duplicateClientOrderId() throws {
        var core = makeCore()
        let (first, _) = try core.place(limit(.buy, "0.1", at: "99", id: "abc"), now: 10)
        #expect(first.clientOrderId == "abc")
        #expect(rejection { _ = try core.place(limit(.buy, "0.1", at: "98", id: "abc"), now: 11) }
                == SimRejection(code: -2010, message: "Duplicate order sent."))
        #expect(core.balance(.usdt).locked == d("9.9"))

        _ = try core.cancel(symbol: btcusdt, orderId: nil, origClientOrderId: "abc", now: 12)
        let (second, _) = try core.place(limit(.buy, "0.1", at: "98", id: "abc"), now: 13)
        #expect(second.orderId == first.orderId + 1)
        #expect(try core.order(symbol: btcusdt, orderId: nil, origClientOrderId: "abc").orderId == second.orderId)
        #expect(try core.order(symbol: btcusdt, orderId: first.orderId, origClientOrderId: nil).status == .canceled)

        // A market order closes at once, so its id is free again immediately.
        _ = try core.place(market(.buy, quantity: "0.1", id: "m1"), now: 14)
        _ = try core.place(market(.buy, quantity: "0.1", id: "m1"), now: 15)
    }

    @Test("generated client ids are 22 alphanumeric characters, distinct, and deterministic")
    func generatedClientIds() throws {
        var core = makeCore()
        var twin = makeCore()
        var ids: [String] = []
        for _ in 0..<20 {
            let (order, _) = try core.place(limit(.buy, "0.1", at: "90"), now: 10)
            let (same, _) = try twin.place(limit(.buy, "0.1", at: "90"), now: 10)
            #expect(order.clientOrderId == same.clientOrderId)
            ids.append(order.clientOrderId)
        }
        #expect(Set(ids).count == 20)
        #expect(ids.allSatisfy { $0.count == 22 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
    }

    @Test("order and trade ids count per symbol from 1")
    func idsPerSymbol() throws {
        var core = makeCore()
        _ = core.marketMoved(symbol: ethusdt, last: d("2000"), low: d("2000"), high: d("2000"), now: 1)
        let (btc1, _) = try core.place(market(.buy, quantity: "0.6"), now: 10)
        let eth = SimOrderParams(symbol: ethusdt, side: .buy, type: .market, quantity: d("0.01"))
        let (eth1, _) = try core.place(eth, now: 11)
        let (btc2, _) = try core.place(market(.buy, quantity: "0.1"), now: 12)
        #expect([btc1.orderId, eth1.orderId, btc2.orderId] == [1, 1, 2])
        #expect(btc1.fills.map(\.tradeId) == [1, 2])
        #expect(eth1.fills.map(\.tradeId) == [1])
        #expect(btc2.fills.map(\.tradeId) == [3])
    }

    @Test("myTrades: ascending, by order, from an id, most recent without one")
    func tradeQueries() throws {
        var core = makeCore()
        let (first, _) = try core.place(market(.buy, quantity: "1.2"), now: 10)   // trades 1, 2, 3
        _ = try core.place(market(.sell, quantity: "0.6"), now: 11)              // trades 4, 5
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 500).map(\.tradeId) == [1, 2, 3, 4, 5])
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 2).map(\.tradeId) == [4, 5])
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: 2, limit: 2).map(\.tradeId) == [2, 3])
        #expect(core.trades(symbol: btcusdt, orderId: first.orderId, fromId: nil, limit: 500).map(\.tradeId) == [1, 2, 3])
        #expect(core.trades(symbol: ethusdt, orderId: nil, fromId: nil, limit: 500).isEmpty)
    }

    @Test("open orders are sorted by orderId and filtered by symbol")
    func openOrdersSorted() throws {
        var core = makeCore()
        for price in ["99", "98", "97"] { _ = try core.place(limit(.buy, "0.1", at: price), now: 10) }
        _ = try core.cancel(symbol: btcusdt, orderId: 2, origClientOrderId: nil, now: 11)
        #expect(core.openOrders(symbol: btcusdt).map(\.orderId) == [1, 3])
        #expect(core.openOrders(symbol: ethusdt).isEmpty)
        #expect(core.openOrders(symbol: nil).count == 2)
    }
}
