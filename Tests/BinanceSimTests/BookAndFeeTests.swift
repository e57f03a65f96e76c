import Testing
import GordonDomain
@testable import BinanceSim

@Suite("Synthetic book and commission rounding")
struct BookAndFeeTests {
    @Test("best ask is the last price rounded up to the tick, best bid one tick below")
    func bookTicker() throws {
        let core = makeCore()
        let ticker = try #require(core.bookTicker(btcusdt))
        #expect(ticker.askPrice == d("100.01"))
        #expect(ticker.bidPrice == d("100.00"))
        #expect(ticker.askQty == d("0.5") && ticker.bidQty == d("0.5"))
        #expect(core.lastPrice(btcusdt) == d("100.005"))
    }

    @Test("a last price on the tick is the best ask")
    func priceOnTick() throws {
        var core = makeCore()
        _ = core.marketMoved(symbol: btcusdt, last: d("100"), low: d("100"), high: d("100"), now: 2)
        let ticker = try #require(core.bookTicker(btcusdt))
        #expect(ticker.askPrice == d("100") && ticker.bidPrice == d("99.99"))
    }

    @Test("depth lists up to limit levels a side, one tick apart, and counts market moves")
    func depth() throws {
        var core = makeCore()
        let book = try #require(core.depth(btcusdt, limit: 3))
        #expect(book.lastUpdateId == 1)
        #expect(book.asks.map(\.0) == [d("100.01"), d("100.02"), d("100.03")])
        #expect(book.bids.map(\.0) == [d("100.00"), d("99.99"), d("99.98")])
        #expect(book.asks.allSatisfy { $0.1 == d("0.5") })
        #expect(core.depth(btcusdt, limit: 100)?.asks.count == 5)
        _ = core.marketMoved(symbol: btcusdt, last: d("101"), low: d("101"), high: d("101"), now: 2)
        #expect(core.depth(btcusdt, limit: 1)?.lastUpdateId == 2)
        #expect(core.depth(ethusdt, limit: 5) == nil)
    }

    @Test("commission is rounded up to 8 decimals and never exceeds what was received")
    func commissionRounding() {
        #expect(SimCommission.charge(on: d("0.00012345"), rate: d("0.001")) == d("0.00000013"))
        #expect(SimCommission.charge(on: d("12.345"), rate: d("0.001")) == d("0.012345"))
        #expect(SimCommission.charge(on: d("0.000000000001"), rate: d("0.001")) == d("0.000000000001"))
        #expect(SimCommission.charge(on: d("5"), rate: .zero) == .zero)
    }

    @Test("a rounded fee lands on the fill and in the balance")
    func roundedFeeOnFill() throws {
        var core = makeCore()
        let (order, _) = try core.place(market(.buy, quantity: "0.12345"), now: 10)
        // 0.12345 × 0.001 = 0.00012345 exactly; a SELL of 0.05001 receives 5.001, fee 0.005001.
        #expect(order.fills.first?.commission == d("0.00012345"))
        let (sell, _) = try core.place(market(.sell, quantity: "0.05001"), now: 11)
        #expect(sell.fills.first?.commission == d("0.005001"))
        var cheap = makeCore()
        _ = cheap.marketMoved(symbol: btcusdt, last: d("99.99"), low: d("99.99"), high: d("99.99"), now: 2)
        // 0.07777 @ 99.98 = 7.7754446, fee 0.0077754446 → 0.00777545
        let (odd, _) = try cheap.place(market(.sell, quantity: "0.07777"), now: 12)
        #expect(odd.fills.first?.quoteQuantity == d("7.7754446"))
        #expect(odd.fills.first?.commission == d("0.00777545"))
        #expect(cheap.balance(.usdt).free == d("10007.76766915"))
    }
}
