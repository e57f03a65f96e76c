import Testing
import GordonDomain
@testable import BinanceSim

/// A SELL OCO protecting a long position (last 100.005): take profit LIMIT_MAKER at 110
/// above, STOP_LOSS_LIMIT 95 / 94.5 below.
func sellOCO(_ quantity: String = "0.4", profit: String = "110", stop: String = "95", limit: String = "94.5",
             listId: String? = nil) -> SimOCOParams {
    SimOCOParams(symbol: btcusdt, side: .sell, quantity: d(quantity),
                 above: .init(type: .limitMaker, price: d(profit)),
                 below: .init(type: .stopLossLimit, price: d(limit), stopPrice: d(stop), timeInForce: .gtc),
                 listClientOrderId: listId)
}

@Suite("Order lists (OCO)")
struct OrderListTests {
    @Test("a SELL OCO puts two legs on the account, stop-loss leg first, and locks its quantity once")
    func placesTwoLegsOneLock() throws {
        var core = makeCore()
        let (list, orders, events) = try core.placeOCO(sellOCO(), now: 10)
        #expect(orders.map(\.type) == [.stopLossLimit, .limitMaker])
        #expect(orders.map(\.orderListId) == [list.orderListId, list.orderListId])
        #expect(orders.map(\.workingTime) == [-1, 10])
        #expect(list.listStatusType == "EXEC_STARTED" && list.listOrderStatus == "EXECUTING")
        #expect(labels(events) == ["NEW", "NEW", "LIST", "POSITION"])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: d("0.4")))
        #expect(core.openOrderLists().map(\.orderListId) == [list.orderListId])
    }

    @Test("the whole position can be protected: an OCO for every base unit held is accepted, one unit more is not")
    func wholePositionFits() throws {
        var core = makeCore()
        #expect(rejection { _ = try core.placeOCO(sellOCO("1.00001"), now: 10) } == SimRejection.insufficientBalance)
        _ = try core.placeOCO(sellOCO("1"), now: 10)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: .zero, locked: d("1")))
    }

    @Test("when the take-profit leg fills, the stop leg expires, the list is ALL_DONE and the lock pays the fill")
    func profitLegFills() throws {
        var core = makeCore()
        let (list, orders, _) = try core.placeOCO(sellOCO(), now: 10)
        let events = core.marketMoved(symbol: btcusdt, last: d("110.5"), low: d("108"), high: d("111"), now: 20)
        #expect(labels(events) == ["EXPIRED", "LIST", "TRADE", "POSITION"])
        let stopLeg = try core.order(symbol: btcusdt, orderId: orders[0].orderId, origClientOrderId: nil)
        let profitLeg = try core.order(symbol: btcusdt, orderId: orders[1].orderId, origClientOrderId: nil)
        #expect(stopLeg.status == .expired)
        #expect(profitLeg.status == .filled && profitLeg.fills.map(\.price) == [d("110")])
        #expect(try core.orderList(orderListId: list.orderListId, listClientOrderId: nil).listOrderStatus == "ALL_DONE")
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: .zero))
        // 0.4 × 110 = 44, less the 0.05% maker fee.
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("10043.978"), locked: .zero))
        #expect(core.openOrderLists().isEmpty)
    }

    @Test("when the price falls to the stop, the take-profit leg expires and the stop works as a limit order that fills")
    func stopLegTriggers() throws {
        var core = makeCore()
        let (_, orders, _) = try core.placeOCO(sellOCO(), now: 10)
        let events = core.marketMoved(symbol: btcusdt, last: d("94.8"), low: d("94.5"), high: d("95.5"), now: 20)
        #expect(labels(events) == ["EXPIRED", "LIST", "TRADE", "POSITION"])
        #expect(try core.order(symbol: btcusdt, orderId: orders[1].orderId, origClientOrderId: nil).status == .expired)
        let stopLeg = try core.order(symbol: btcusdt, orderId: orders[0].orderId, origClientOrderId: nil)
        #expect(stopLeg.status == .filled && stopLeg.workingTime == 20)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: .zero))
    }

    @Test("a stop that triggers but does not fill keeps the lock for its own remainder, and canceling it releases it")
    func triggeredStopKeepsItsLock() throws {
        var core = makeCore()
        let (list, orders, _) = try core.placeOCO(sellOCO(limit: "96"), now: 10)
        // Falls to the stop (95) but the range never reaches up to the limit (96).
        let events = core.marketMoved(symbol: btcusdt, last: d("94"), low: d("93"), high: d("95"), now: 20)
        #expect(labels(events) == ["EXPIRED", "LIST"])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("0.6"), locked: d("0.4")))
        // The list is done: the remaining leg cancels on its own, as any order.
        #expect(rejection { _ = try core.cancelOrderList(symbol: btcusdt, orderListId: list.orderListId, listClientOrderId: nil, now: 30) }
                == SimRejection.orderListToCancelDoesNotExist)
        let (canceled, cancelEvents) = try core.cancel(symbol: btcusdt, orderId: orders[0].orderId, origClientOrderId: nil, now: 30)
        #expect(canceled.status == .canceled)
        #expect(labels(cancelEvents) == ["CANCELED", "POSITION"])
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
    }

    @Test("canceling one leg cancels the list (rest-api.md), releasing the shared lock once")
    func cancelingOneLegCancelsBoth() throws {
        var core = makeCore()
        let (list, orders, _) = try core.placeOCO(sellOCO(), now: 10)
        let (_, events) = try core.cancel(symbol: btcusdt, orderId: orders[1].orderId, origClientOrderId: nil, now: 20)
        #expect(labels(events) == ["CANCELED", "CANCELED", "LIST", "POSITION"])
        #expect(core.openOrders(symbol: btcusdt).isEmpty)
        #expect(try core.orderList(orderListId: list.orderListId, listClientOrderId: nil).isDone)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
    }

    @Test("DELETE orderList by listClientOrderId and DELETE openOrders both end the list")
    func cancelListAndCancelAll() throws {
        var core = makeCore()
        _ = try core.placeOCO(sellOCO("0.3", listId: "protect-1"), now: 10)
        let (list, legs, _) = try core.cancelOrderList(symbol: btcusdt, orderListId: nil, listClientOrderId: "protect-1", now: 20)
        #expect(list.listOrderStatus == "ALL_DONE" && legs.map(\.status) == [.canceled, .canceled])
        // The id is free again once its list is done.
        _ = try core.placeOCO(sellOCO("0.3", listId: "protect-1"), now: 30)
        _ = try core.place(limit(.buy, "0.1", at: "90"), now: 30)
        let (canceled, _) = try core.cancelAll(symbol: btcusdt, now: 40)
        #expect(canceled.count == 3)
        #expect(core.openOrderLists().isEmpty)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("10000"), locked: .zero))
        #expect(core.allOrderLists(fromId: nil, startTime: nil, endTime: nil, limit: 10).map(\.orderListId) == [2, 1])
    }

    @Test("a BUY OCO (stop above, limit maker below) locks the larger of its legs' quote amounts")
    func buyOCOLocksTheLargerLeg() throws {
        var core = makeCore()
        let buy = SimOCOParams(symbol: btcusdt, side: .buy, quantity: d("0.1"),
                               above: .init(type: .stopLossLimit, price: d("106"), stopPrice: d("105"), timeInForce: .gtc),
                               below: .init(type: .limitMaker, price: d("90")))
        _ = try core.placeOCO(buy, now: 10)
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9989.4"), locked: d("10.6")))
        _ = core.marketMoved(symbol: btcusdt, last: d("89.5"), low: d("89"), high: d("91"), now: 20)
        #expect(core.balance(.usdt).locked == .zero)
        #expect(core.balance(.usdt).free == d("9991"))  // paid 9 for 0.1 at 90
    }

    @Test("Binance's OCO rules: leg types, positions and the price relationship around the last price")
    func rejections() {
        var core = makeCore()
        #expect(rejection { _ = try core.placeOCO(sellOCO(profit: "100"), now: 10) } == SimRejection.ocoPriceRelationship)
        #expect(rejection { _ = try core.placeOCO(sellOCO(stop: "100.01", limit: "100"), now: 10) } == SimRejection.ocoPriceRelationship)
        var swapped = sellOCO()
        swap(&swapped.above, &swapped.below)
        #expect(rejection { _ = try core.placeOCO(swapped, now: 10) } == SimRejection.sellOCOStopLossMustBeBelow)
        var twoMakers = sellOCO()
        twoMakers.below = .init(type: .limitMaker, price: d("90"))
        #expect(rejection { _ = try core.placeOCO(twoMakers, now: 10) } == SimRejection.bothOCOOrdersLimit)
        var plainLimit = sellOCO()
        plainLimit.above = .init(type: .limit, price: d("110"), timeInForce: .gtc)
        #expect(rejection { _ = try core.placeOCO(plainLimit, now: 10) } == SimRejection.ocoOrderTypeRejected)
        var buy = sellOCO()
        buy.side = .buy
        #expect(rejection { _ = try core.placeOCO(buy, now: 10) } == SimRejection.buyOCOStopLossMustBeAbove)
        _ = try? core.place(limit(.buy, "0.1", at: "90", id: "taken"), now: 10)
        var duplicate = sellOCO()
        duplicate.above.clientOrderId = "taken"
        #expect(rejection { _ = try core.placeOCO(duplicate, now: 10) } == SimRejection.duplicateOrder)
        // Nothing refused changed the account: only the 9 USDT of the one limit order is locked.
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("1"), locked: .zero))
        #expect(core.openOrderLists().isEmpty)
    }
}
