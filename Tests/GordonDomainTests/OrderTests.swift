import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("OrderRequest and Order")
struct OrderTests {
    static let t0 = Timestamp(milliseconds: 1_704_067_200_000)
    static let t1 = Timestamp(milliseconds: 1_704_067_200_001)

    static func request(
        _ type: OrderType = .limit, timeInForce: TimeInForce? = .gtc, price: String? = "27000.5",
        stopPrice: String? = nil, quantity: String = "1"
    ) throws(GordonError) -> OrderRequest {
        try OrderRequest(
            clientOrderId: ClientOrderId("intent-1"), botId: BotId("bot-1"), symbol: Symbol("BTCUSDT"), side: .buy,
            type: type, timeInForce: timeInForce, price: price.map { text throws(GordonError) in try Price(parsing: text) },
            stopPrice: stopPrice.map { text throws(GordonError) in try Price(parsing: text) }, quantity: Quantity(parsing: quantity))
    }

    static func order(
        status: OrderStatus, executed: String = "0", cumulativeQuote: String = "0",
        exchangeOrderId: Int64? = 42, createdAt: Timestamp = t0, updatedAt: Timestamp = t0
    ) throws(GordonError) -> Order {
        try Order(
            clientOrderId: ClientOrderId("intent-1"), exchangeOrderId: exchangeOrderId, botId: BotId("bot-1"),
            symbol: Symbol("BTCUSDT"), side: .buy, type: .limit, timeInForce: .gtc, price: Price(parsing: "27000.5"),
            quantity: Quantity(parsing: "1"), executedQuantity: Quantity(parsing: executed),
            cumulativeQuoteQuantity: ExactDecimal(parsing: cumulativeQuote), status: status,
            createdAt: createdAt, updatedAt: updatedAt)
    }

    // MARK: Per-type shape

    @Test func requestShapesFollowBinanceRules() throws {
        #expect(try Self.request(.market, timeInForce: nil, price: nil).type == .market)
        #expect(try Self.request(.limit).price == Price(parsing: "27000.5"))
        #expect(try Self.request(.limitMaker, timeInForce: nil).timeInForce == nil)
        #expect(try Self.request(.stopLoss, timeInForce: nil, price: nil, stopPrice: "26000").stopPrice == Price(parsing: "26000"))
        #expect(try Self.request(.stopLossLimit, stopPrice: "26000").type == .stopLossLimit)
        #expect(try Self.request(.takeProfit, timeInForce: nil, price: nil, stopPrice: "28000").type == .takeProfit)
        #expect(try Self.request(.takeProfitLimit, stopPrice: "28000").type == .takeProfitLimit)
    }

    @Test func requestShapeViolations() {
        // (type, time in force, price, stop price, quantity): each breaks one Binance rule.
        let cases: [(OrderType, TimeInForce?, String?, String?, String)] = [
            (.limit, .gtc, nil, nil, "1"),
            (.limit, nil, "1", nil, "1"),
            (.limit, .gtc, "0", nil, "1"),
            (.limit, .gtc, "1", "1", "1"),
            (.market, .gtc, nil, nil, "1"),
            (.market, nil, "1", nil, "1"),
            (.market, nil, nil, nil, "0"),
            (.limitMaker, .gtc, "1", nil, "1"),
            (.stopLoss, nil, nil, nil, "1"),
            (.stopLoss, nil, nil, "0", "1"),
            (.stopLoss, nil, "1", "1", "1"),
            (.stopLossLimit, .gtc, "1", nil, "1"),
            (.takeProfitLimit, nil, "1", "1", "1"),
            (.takeProfit, .ioc, nil, "1", "1"),
        ]
        for (type, timeInForce, price, stopPrice, quantity) in cases {
            let code = thrownCode { () throws(GordonError) in
                try Self.request(type, timeInForce: timeInForce, price: price, stopPrice: stopPrice, quantity: quantity)
            }
            #expect(code == .invalidOrder, "\(type) \(String(describing: timeInForce)) \(price ?? "-") \(stopPrice ?? "-") \(quantity)")
        }
        let error = thrownError { () throws(GordonError) in try Self.request(.limit, price: nil) }
        #expect(error?.context["clientOrderId"] == "intent-1")
    }

    // MARK: Order invariants

    @Test func validOrdersInEveryReachableShape() throws {
        #expect(try Self.order(status: .pendingNew, exchangeOrderId: nil).isOpen)
        #expect(try Self.order(status: .new).remainingQuantity == qty("1"))
        #expect(try Self.order(status: .partiallyFilled, executed: "0.4", cumulativeQuote: "10800.2").remainingQuantity == qty("0.6"))
        #expect(try !Self.order(status: .filled, executed: "1", cumulativeQuote: "27000.5").isOpen)
        #expect(try Self.order(status: .canceled, executed: "0.4", cumulativeQuote: "10800.2").status == .canceled)
        #expect(try Self.order(status: .canceled).executedQuantity == .zero)
        #expect(try Self.order(status: .rejected, exchangeOrderId: nil).status == .rejected)
    }

    @Test func orderInvariantViolations() {
        // (status, executed, cumulative quote, exchange order id, created, updated)
        let cases: [(OrderStatus, String, String, Int64?, Timestamp, Timestamp)] = [
            (.partiallyFilled, "1.1", "1", 42, Self.t0, Self.t0),  // executed beyond quantity
            (.filled, "0.9", "1", 42, Self.t0, Self.t0),  // FILLED but not all executed
            (.partiallyFilled, "1", "1", 42, Self.t0, Self.t0),  // all executed but not FILLED
            (.canceled, "1", "1", 42, Self.t0, Self.t0),
            (.new, "0.1", "1", 42, Self.t0, Self.t0),  // NEW has executed nothing
            (.pendingNew, "0.1", "1", nil, Self.t0, Self.t0),
            (.rejected, "0.1", "1", nil, Self.t0, Self.t0),
            (.partiallyFilled, "0", "0", 42, Self.t0, Self.t0),  // PARTIALLY_FILLED has executed something
            (.new, "0", "5", 42, Self.t0, Self.t0),  // quote without execution
            (.partiallyFilled, "0.5", "-1", 42, Self.t0, Self.t0),
            (.new, "0", "0", -1, Self.t0, Self.t0),
            (.new, "0", "0", 42, Self.t1, Self.t0),  // updated before created
        ]
        for (status, executed, cumulativeQuote, exchangeOrderId, createdAt, updatedAt) in cases {
            let code = thrownCode { () throws(GordonError) in
                try Self.order(status: status, executed: executed, cumulativeQuote: cumulativeQuote,
                               exchangeOrderId: exchangeOrderId, createdAt: createdAt, updatedAt: updatedAt)
            }
            #expect(code == .invalidOrder, "\(status) \(executed) \(cumulativeQuote)")
        }
    }

    @Test func acceptingARequestStartsPending() throws {
        let request = try Self.request(.stopLossLimit, stopPrice: "26000")
        let order = Order(accepting: request, at: Self.t0)
        #expect(order.status == .pendingNew)
        #expect(order.exchangeOrderId == nil)
        #expect(order.executedQuantity == .zero)
        #expect(order.cumulativeQuoteQuantity == .zero)
        #expect(order.createdAt == Self.t0 && order.updatedAt == Self.t0)
        #expect(order.request == request)
    }

    // MARK: apply

    @Test func applyWalksTheLifecycle() throws {
        var order = Order(accepting: try Self.request(), at: Self.t0)
        try order.apply(status: .new, executedQuantity: .zero, cumulativeQuote: .zero,
                        at: Timestamp(milliseconds: Self.t0.milliseconds + 5), exchangeOrderId: 42)
        #expect(order.status == .new)
        #expect(order.exchangeOrderId == 42)
        // A duplicate ack is idempotent.
        try order.apply(status: .new, executedQuantity: .zero, cumulativeQuote: .zero, at: Timestamp(milliseconds: Self.t0.milliseconds + 5))
        try order.apply(status: .partiallyFilled, executedQuantity: qty("0.4"), cumulativeQuote: dec("10800.2"),
                        at: Timestamp(milliseconds: Self.t0.milliseconds + 10), exchangeOrderId: 42)
        try order.apply(status: .partiallyFilled, executedQuantity: qty("0.7"), cumulativeQuote: dec("18900.35"),
                        at: Timestamp(milliseconds: Self.t0.milliseconds + 20))
        try order.apply(status: .filled, executedQuantity: qty("1"), cumulativeQuote: dec("27000.5"),
                        at: Timestamp(milliseconds: Self.t0.milliseconds + 30))
        #expect(order.status == .filled)
        #expect(order.executedQuantity == (try qty("1")))
        #expect(order.cumulativeQuoteQuantity == (try dec("27000.5")))
        #expect(order.updatedAt == Timestamp(milliseconds: Self.t0.milliseconds + 30))
        #expect(order.remainingQuantity == .zero)
    }

    @Test func applyRefusesRegressionsAndLeavesTheOrderUnchanged() throws {
        let original = try Self.order(status: .partiallyFilled, executed: "0.5", cumulativeQuote: "13500.25")
        // (expected code, status, executed, cumulative quote, exchange order id)
        let attempts: [(ErrorCode, OrderStatus, String, String, Int64?)] = [
            (.invalidOrder, .partiallyFilled, "0.4", "13500.25", nil),  // executed went down
            (.invalidOrder, .partiallyFilled, "0.6", "13500", nil),  // quote went down
            (.invalidOrder, .filled, "1.5", "40000", nil),  // beyond the order quantity
            (.invalidOrder, .filled, "0.9", "24300", nil),  // FILLED with quantity left
            (.invalidOrder, .partiallyFilled, "0.6", "16200", 43),  // another exchange order
            (.illegalOrderTransition, .new, "0.5", "13500.25", nil),
            (.illegalOrderTransition, .rejected, "0.5", "13500.25", nil),
            (.illegalOrderTransition, .pendingNew, "0.5", "13500.25", nil),
        ]
        for (code, status, executed, cumulativeQuote, exchangeOrderId) in attempts {
            var order = original
            let thrown = thrownCode { () throws(GordonError) in
                try order.apply(status: status, executedQuantity: qty(executed), cumulativeQuote: dec(cumulativeQuote),
                                at: Self.t1, exchangeOrderId: exchangeOrderId)
            }
            #expect(thrown == code, "\(status) \(executed) \(cumulativeQuote)")
            #expect(order == original, "a refused update changed the order")
        }
    }

    @Test func terminalOrdersAcceptNothing() throws {
        var order = try Self.order(status: .filled, executed: "1", cumulativeQuote: "27000.5")
        #expect(thrownCode { () throws(GordonError) in
            try order.apply(status: .filled, executedQuantity: qty("1"), cumulativeQuote: dec("27000.5"), at: Self.t0)
        } == .illegalOrderTransition)
        #expect(thrownCode { () throws(GordonError) in
            try order.apply(status: .canceled, executedQuantity: qty("1"), cumulativeQuote: dec("27000.5"), at: Self.t0)
        } == .illegalOrderTransition)
    }

    @Test func updatedAtNeverMovesBackward() throws {
        let later = Timestamp(milliseconds: Self.t0.milliseconds + 1000)
        var order = try Self.order(status: .new, updatedAt: later)
        // The exchange's clock may lag Gordon's by a few milliseconds; the update still lands.
        try order.apply(status: .canceled, executedQuantity: .zero, cumulativeQuote: .zero, at: Self.t0)
        #expect(order.status == .canceled)
        #expect(order.updatedAt == later)
    }

    @Test func fillRacingACancelIsAccepted() throws {
        var order = try Self.order(status: .new)
        try order.apply(status: .pendingCancel, executedQuantity: .zero, cumulativeQuote: .zero, at: Self.t0)
        try order.apply(status: .filled, executedQuantity: qty("1"), cumulativeQuote: dec("27000.5"), at: Self.t0)
        #expect(order.status == .filled)
    }

    // MARK: JSON

    @Test func ordersAndRequestsRoundTripThroughJSON() throws {
        let order = try Self.order(status: .partiallyFilled, executed: "0.4", cumulativeQuote: "10800.2")
        let data = try JSONEncoder().encode(order)
        #expect(try JSONDecoder().decode(Order.self, from: data) == order)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""price":"27000.5""#))
        #expect(json.contains(#""status":"PARTIALLY_FILLED""#))
        #expect(!json.contains("stopPrice"))

        let request = try Self.request(.stopLossLimit, stopPrice: "26000")
        #expect(try JSONDecoder().decode(OrderRequest.self, from: JSONEncoder().encode(request)) == request)
    }

    @Test func decodingValidates() throws {
        // Key order in encoded JSON varies between runs, so remove the key structurally.
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(try Self.request())) as? [String: Any])
        #expect(object.removeValue(forKey: "price") != nil)
        let withoutPrice = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(OrderRequest.self, from: withoutPrice) }

        let order = String(decoding: try JSONEncoder().encode(try Self.order(status: .new)), as: UTF8.self)
        let overExecuted = order.replacingOccurrences(of: #""executedQuantity":"0""#, with: #""executedQuantity":"2""#)
        #expect(overExecuted != order)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Order.self, from: Data(overExecuted.utf8)) }
    }
}
