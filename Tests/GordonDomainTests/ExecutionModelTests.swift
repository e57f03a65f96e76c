import GordonDomain
import GordonKernel
import Testing

/// The smallest conforming model: it proves the protocol can be implemented by an actor
/// with typed throws, and pins the idempotency contract in an executable example.
private actor InstantExecution: ExecutionModel {
    private var orders: [ClientOrderId: Order] = [:]
    private(set) var placements = 0
    private let now = Timestamp(milliseconds: 1_704_067_200_000)

    func submit(_ request: OrderRequest) async throws(GordonError) -> Order {
        if let existing = orders[request.clientOrderId] {
            guard existing.request == request else {
                throw GordonError(.invalidOrder, "client order id reused for a different request", kind: .conflict)
            }
            return existing
        }
        placements += 1
        var order = Order(accepting: request, at: now)
        try order.apply(status: .new, executedQuantity: .zero, cumulativeQuote: .zero, at: now, exchangeOrderId: Int64(placements))
        orders[request.clientOrderId] = order
        return order
    }

    func cancel(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order {
        guard var order = orders[clientOrderId], order.symbol == symbol else {
            throw GordonError(.invalidOrder, "unknown order", kind: .notFound)
        }
        if order.isOpen {
            try order.apply(status: .canceled, executedQuantity: order.executedQuantity,
                            cumulativeQuote: order.cumulativeQuoteQuantity, at: now)
            orders[clientOrderId] = order
        }
        return order
    }

    func order(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order? {
        orders[clientOrderId].flatMap { $0.symbol == symbol ? $0 : nil }
    }

    func openOrders(symbol: Symbol?) async throws(GordonError) -> [Order] {
        orders.values.filter { $0.isOpen && (symbol == nil || $0.symbol == symbol) }.sorted { $0.clientOrderId < $1.clientOrderId }
    }

    func balances() async throws(GordonError) -> [Balance] {
        [try Balance(asset: .usdt, free: 1000, locked: 0)]
    }
}

@Suite("ExecutionModel contract")
struct ExecutionModelTests {
    @Test func resubmittingAKnownIdReturnsTheExistingOrder() async throws {
        let model = InstantExecution()
        let request = try OrderRequest(
            clientOrderId: ClientOrderId("intent-7"), botId: BotId("bot-1"), symbol: Symbol("BTCUSDT"), side: .buy,
            type: .limit, timeInForce: .gtc, price: Price(parsing: "27000"), quantity: Quantity(parsing: "0.01"))
        let first = try await model.submit(request)
        let second = try await model.submit(request)
        #expect(first == second)
        #expect(await model.placements == 1)
        #expect(try await model.openOrders(symbol: nil) == [first])

        let canceled = try await model.cancel(symbol: request.symbol, clientOrderId: request.clientOrderId)
        #expect(canceled.status == .canceled)
        #expect(try await model.cancel(symbol: request.symbol, clientOrderId: request.clientOrderId) == canceled)
        #expect(try await model.openOrders(symbol: request.symbol).isEmpty)
        #expect(try await model.order(symbol: request.symbol, clientOrderId: request.clientOrderId) == canceled)
        #expect(try await model.balances().first?.total == 1000)
    }
}
