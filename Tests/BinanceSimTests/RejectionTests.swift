import Testing
import GordonDomain
@testable import BinanceSim

@Suite("Rejections: balance, filters, parameters")
struct RejectionTests {
    static let insufficient = SimRejection(code: -2010, message: "Account has insufficient balance for requested action.")

    @Test("orders the free balance cannot cover are rejected and change nothing")
    func insufficientBalance() throws {
        var core = makeCore(usdt: "50")
        let before = core.balances()
        #expect(rejection { _ = try core.place(market(.buy, quantity: "1"), now: 10) } == Self.insufficient)
        #expect(rejection { _ = try core.place(market(.buy, quote: "60"), now: 10) } == Self.insufficient)
        #expect(rejection { _ = try core.place(limit(.buy, "1", at: "99"), now: 10) } == Self.insufficient)
        #expect(rejection { _ = try core.place(limit(.sell, "1.5", at: "101"), now: 10) } == Self.insufficient)
        #expect(rejection { _ = try core.place(market(.sell, quantity: "1.00001"), now: 10) } == Self.insufficient)
        #expect(core.balances() == before)
        #expect(core.openOrders(symbol: nil).isEmpty)
        // Exactly the free amount is enough.
        _ = try core.place(limit(.sell, "1", at: "101"), now: 10)
        #expect(core.balance(.btc) == SimBalance(asset: .btc, free: .zero, locked: d("1")))
    }

    @Test("a locked balance is not free: a second order cannot spend it")
    func lockedIsNotFree() throws {
        var core = makeCore(usdt: "100")
        _ = try core.place(limit(.buy, "0.9", at: "99"), now: 10)          // locks 89.1
        #expect(rejection { _ = try core.place(limit(.buy, "0.2", at: "99"), now: 11) } == Self.insufficient)
    }

    @Test("each filter failure carries Binance's filter name", arguments: [
        (limit(.buy, "0.000015", at: "99"), "LOT_SIZE"),
        (limit(.buy, "10000", at: "99"), "LOT_SIZE"),
        (limit(.buy, "0.1", at: "99.995"), "PRICE_FILTER"),
        (limit(.buy, "0.01", at: "99"), "NOTIONAL"),
        (market(.buy, quantity: "0.01"), "NOTIONAL"),
        (market(.buy, quote: "1"), "NOTIONAL"),
        (market(.buy, quantity: "150"), "MARKET_LOT_SIZE"),
        (market(.buy, quote: "0.0001"), "LOT_SIZE"),
    ])
    func filterFailures(params: SimOrderParams, filter: String) {
        var core = makeCore(usdt: "1000000")
        let expected = SimRejection(code: -1013, message: "Filter failure: \(filter)")
        #expect(rejection { _ = try core.place(params, now: 10) } == expected)
        #expect(rejection { try core.validate(params) } == expected)
    }

    @Test("parameter errors as Binance words them", arguments: [
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .limit, timeInForce: .gtc, price: d("99")),
         SimRejection(code: -1102, message: "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .limit, timeInForce: .gtc, quantity: d("0.1")),
         SimRejection(code: -1102, message: "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .limit, quantity: d("0.1"), price: d("99")),
         SimRejection(code: -1102, message: "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .market),
         SimRejection(code: -1102, message: "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .market, quantity: d("0.1"), price: d("99")),
         SimRejection(code: -1106, message: "Parameter 'price' sent when not required.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .market, timeInForce: .gtc, quantity: d("0.1")),
         SimRejection(code: -1106, message: "Parameter 'timeInForce' sent when not required.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .market, quantity: d("0.1"), quoteOrderQty: d("10")),
         SimRejection(code: -1106, message: "Parameter 'quoteOrderQty' sent when not required.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .limitMaker, timeInForce: .gtc, quantity: d("0.1"), price: d("99")),
         SimRejection(code: -1106, message: "Parameter 'timeInForce' sent when not required.")),
        (SimOrderParams(symbol: try! Symbol("XRPUSDT"), side: .buy, type: .market, quantity: d("1")),
         SimRejection(code: -1121, message: "Invalid symbol.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .stopLoss, quantity: d("0.1")),
         SimRejection(code: -2010, message: "Stop loss orders are not supported for this symbol.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .takeProfit, quantity: d("0.1")),
         SimRejection(code: -2010, message: "Take profit orders are not supported for this symbol.")),
        (SimOrderParams(symbol: btcusdt, side: .buy, type: .takeProfitLimit, quantity: d("0.1")),
         SimRejection(code: -1102, message: "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")),
        (limit(.buy, "0.123456789", at: "99"),
         SimRejection(code: -1111, message: "Parameter 'quantity' has too much precision.")),
        (limit(.buy, "92233720368.54775808", at: "99"),
         SimRejection(code: -1108, message: "Parameter 'quantity' overflowed.")),
        (limit(.buy, "0.1", at: "0"), SimRejection(code: -1013, message: "Invalid price.")),
        (limit(.buy, "0.1", at: "99", id: "has space"),
         SimRejection(code: -1100, message: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")),
    ])
    func parameterErrors(params: SimOrderParams, expected: SimRejection) {
        var core = makeCore()
        #expect(rejection { _ = try core.place(params, now: 10) } == expected)
        #expect(rejection { try core.validate(params) } == expected)
    }

    @Test("validate() runs the API checks and changes nothing")
    func validateChangesNothing() throws {
        var core = makeCore()
        _ = try core.place(limit(.buy, "0.1", at: "99"), now: 10)
        _ = try core.place(market(.buy, quantity: "0.6"), now: 11)
        let balances = core.balances()
        let open = core.openOrders(symbol: nil)
        let trades = core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 1000)
        let book = core.depth(btcusdt, limit: 100).map { "\($0)" }

        try core.validate(market(.buy, quantity: "0.5"))
        try core.validate(limit(.sell, "0.5", at: "101", id: "x1"))
        #expect(rejection { try core.validate(limit(.buy, "0.000015", at: "99")) } != nil)
        // Not checked by order/test (it never reaches the matching engine): funds and ids.
        try core.validate(market(.buy, quantity: "99"))

        #expect(core.balances() == balances)
        #expect(core.openOrders(symbol: nil) == open)
        #expect(core.trades(symbol: btcusdt, orderId: nil, fromId: nil, limit: 1000) == trades)
        #expect(core.depth(btcusdt, limit: 100).map { "\($0)" } == book)
        // The next placement still gets the next ids.
        let (next, _) = try core.place(limit(.buy, "0.1", at: "98"), now: 12)
        #expect(next.orderId == 3)
        #expect(next.fills.isEmpty)
    }
}
