import Testing
import GordonDomain
@testable import BinanceSim

@Suite("MARKET orders walk the synthetic book")
struct MarketOrderTests {
    @Test("a BUY by quantity takes three ask levels at successive prices, taker fees in the base asset")
    func buyWalksThreeLevels() throws {
        var core = makeCore()
        let (order, events) = try core.place(market(.buy, quantity: "1.2"), now: 10)

        #expect(order.status == .filled)
        #expect(order.price == .zero)
        #expect(order.origQty == d("1.2"))
        #expect(order.executedQty == d("1.2"))
        #expect(order.fills.map(\.price) == [d("100.01"), d("100.02"), d("100.03")])
        #expect(order.fills.map(\.quantity) == [d("0.5"), d("0.5"), d("0.2")])
        // 50.005 + 50.01 + 20.006
        #expect(order.cummulativeQuoteQty == d("120.021"))
        let vwap = try order.cummulativeQuoteQty.divided(by: order.executedQty, scale: 8, rounding: .halfEven)
        #expect(vwap == d("100.0175"))
        #expect(order.fills.map(\.commission) == [d("0.0005"), d("0.0005"), d("0.0002")])
        #expect(order.fills.allSatisfy { $0.commissionAsset == .btc && !$0.isMaker })
        #expect(order.fills.map(\.tradeId) == [1, 2, 3])

        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("9879.979"), locked: .zero))
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: d("2.1988"), locked: .zero))
        #expect(labels(events) == ["NEW", "TRADE", "TRADE", "TRADE", "POSITION"])
        if case .execution(let new, _, let fill, _) = events[0] {
            #expect(new.status == .new && new.executedQty.isZero && fill == nil)
        }
        if case .execution(let partial, _, let fill, _) = events[1] {
            #expect(partial.status == .partiallyFilled && fill?.tradeId == 1)
        }
        if case .accountPosition(let balances, let time) = events[4] {
            #expect(balances.map(\.asset) == [.btc, .usdt])
            #expect(time == 10)
        }
    }

    @Test("a SELL by quantity walks the bids and pays the fee in the quote asset")
    func sellWalksBids() throws {
        var core = makeCore()
        let (order, _) = try core.place(market(.sell, quantity: "0.6"), now: 10)
        #expect(order.fills.map(\.price) == [d("100.00"), d("99.99")])
        // 50 + 9.999 = 59.999, fee 0.05 + 0.009999
        #expect(order.cummulativeQuoteQty == d("59.999"))
        #expect(order.fills.map(\.commission) == [d("0.05"), d("0.009999")])
        #expect(order.fills.allSatisfy { $0.commissionAsset == .usdt })
        #expect(core.balance(.usdt).free == d("10059.939001"))
        #expect(core.balance(.btc).free == d("0.4"))
    }

    @Test("a BUY by quoteOrderQty spends at most the amount, in whole LOT_SIZE steps")
    func quoteOrderQtyBuy() throws {
        var core = makeCore()
        let (order, _) = try core.place(market(.buy, quote: "75"), now: 10)
        // 0.5 @ 100.01 = 50.005; the remaining 24.995 buys 0.2499 @ 100.02 = 24.994998.
        #expect(order.fills.map(\.quantity) == [d("0.5"), d("0.2499")])
        #expect(order.cummulativeQuoteQty == d("74.999998"))
        #expect(order.executedQty == d("0.7499"))
        #expect(order.origQty == d("0.7499"))
        #expect(order.origQuoteOrderQty == d("75"))
        #expect(order.status == .filled)
        #expect(core.balance(.usdt).free == d("9925.000002"))
        #expect(core.balance(.btc).free == d("1.7491501"))
    }

    @Test("a SELL by quoteOrderQty sells what receives the amount")
    func quoteOrderQtySell() throws {
        var core = makeCore()
        let (order, _) = try core.place(market(.sell, quote: "30"), now: 10)
        #expect(order.fills.map(\.quantity) == [d("0.3")])
        #expect(order.cummulativeQuoteQty == d("30"))
        #expect(order.status == .filled)
        #expect(core.balance(.btc).free == d("0.7"))
    }

    @Test("an order larger than the book's depth ends EXPIRED with what filled")
    func exhaustsDepth() throws {
        var core = makeCore(usdt: "1000")
        let (order, events) = try core.place(market(.buy, quantity: "3"), now: 10)
        #expect(order.status == .expired)
        #expect(order.origQty == d("3"))
        #expect(order.executedQty == d("2.5"))
        #expect(order.cummulativeQuoteQty == d("250.075"))
        #expect(labels(events) == ["NEW", "TRADE", "TRADE", "TRADE", "TRADE", "TRADE", "EXPIRED", "POSITION"])
        #expect(core.openOrders(symbol: btcusdt).isEmpty)
        #expect(core.balance(.usdt) == SimBalance(asset: .usdt, free: d("749.925"), locked: .zero))
    }

    @Test("a quote-sized order that exhausts the depth reports executed < orig and EXPIRED")
    func quoteOrderExhaustsDepth() throws {
        var core = makeCore()
        let (order, _) = try core.place(market(.buy, quote: "1000"), now: 10)
        #expect(order.status == .expired)
        #expect(order.executedQty == d("2.5"))
        #expect(order.origQty > order.executedQty)
    }

    @Test("a book with no levels expires a market order with nothing executed")
    func emptyBookExpires() throws {
        var core = makeCore(levels: 0)
        let (order, events) = try core.place(market(.buy, quantity: "0.1"), now: 10)
        #expect(order.status == .expired)
        #expect(order.executedQty.isZero)
        #expect(labels(events) == ["NEW", "EXPIRED"])
        #expect(core.balance(.usdt).free == d("10000"))
    }

    @Test("before the first price a market order is rejected: Market is closed")
    func noPriceYet() {
        var core = makeCore(priced: false)
        #expect(rejection { _ = try core.place(market(.buy, quantity: "0.1"), now: 1) }
                == SimRejection(code: -2010, message: "Market is closed."))
        #expect(core.bookTicker(btcusdt) == nil)
    }
}

@Suite("ids of a simulator started again")
struct FirstIdTests {
    @Test("order and trade ids start at firstId, so a simulator started over an earlier run's records never repeats one")
    func idsStartAtFirstId() throws {
        var core = SimExchangeCore(symbols: [btcSpec(), ethSpec()], fees: testFees, balances: [.usdt: d("10000")], firstId: 5000)
        _ = core.marketMoved(symbol: btcusdt, last: d("100.005"), low: d("100.005"), high: d("100.005"), now: 1)
        let (first, _) = try core.place(market(.buy, quantity: "1.2"), now: 10)
        let (second, _) = try core.place(market(.buy, quantity: "0.1"), now: 11)
        #expect(first.orderId == 5000 && second.orderId == 5001)
        #expect(first.fills.map(\.tradeId) == [5000, 5001, 5002] && second.fills.map(\.tradeId) == [5003])
    }
}
