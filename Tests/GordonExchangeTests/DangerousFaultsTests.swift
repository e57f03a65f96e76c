import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Testing

/// Issue 14: the simulator's dangerous cases, where the order exists although the reply says
/// otherwise (or says nothing yet), and the client must place it exactly once.
@Suite("Placement under the dangerous faults: executed but unanswered, executed late")
struct DangerousFaultsTests {
    func placeMarket(_ client: BinanceRESTClient, _ tag: String) async throws -> (OrderResponse, ClientOrderId) {
        let id = try newClientOrderId(tag)
        let order = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                          quantity: Quantity(parsing: "0.01"), clientOrderId: id))
        return (order, id)
    }

    /// Faults after which the order exists although the reply does not say so.
    enum ExecutedButUnanswered: String, CaseIterable, Sendable {
        case serverError = "executed, then a 503"
        case timeout = "executed, then -1007 TIMEOUT"
        case truncated = "executed, then a 200 whose body is cut short"

        func inject(into faults: inout SimFaults) {
            switch self {
            case .serverError: faults.executedThenServerErrors = 1
            case .timeout: faults.executedThenTimeouts = 1
            case .truncated: faults.truncatedOrderReplies = 1
            }
        }
    }

    @Test("an order executed but not answered is found by query and placed once", arguments: ExecutedButUnanswered.allCases)
    func executedButUnanswered(_ fault: ExecutedButUnanswered) async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 1000, settle: .milliseconds(100))
            try await sim.synchronize(client)
            sim.simulator.updateFaults { fault.inject(into: &$0) }
            let (order, id) = try await placeMarket(client, "x-\(fault)")
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
            let posts = sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" }
            #expect(posts.count == 1)  // resolved by query, never sent again
        }
    }

    @Test("executed late, after a query would have said -2013: the resolver waits out recvWindow, placed once")
    func lateExecution() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 4000, settle: .milliseconds(200))
            try await sim.synchronize(client)
            sim.simulator.updateFaults {
                // Executes 2.5 s after arrival, within the 4 s recvWindow with room for a
                // loaded machine's late timers; a resolver that does not wait queries first.
                $0.lateExecutions = 1
                $0.lateExecutionMilliseconds = 2500
            }
            let (order, id) = try await placeMarket(client, "xlate")
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
            // Nothing was sent again: one POST.
            #expect(sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" }.count == 1)
        }
    }

    @Test("after a -1021 resend, the wait runs from the resend, not the first send")
    func lateExecutionAfterClockResend() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 4000, timeout: .seconds(8), settle: .milliseconds(200))
            try await sim.synchronize(client)
            sim.simulator.updateFaults {
                // The first send (t0) is refused as too old (-1021); its answer and the resync
                // each cost a 1.5 s round trip, so the resend leaves at t1 ≈ t0 + 3 s and
                // executes at t1 + 2.5 s. A wait measured from t0 queries at t0 + 4.2 s, before
                // that, and sends a second order; the right wait queries at t1 + 4.2 s. The
                // late execution itself must happen within the resend's recvWindow (t1 + 4 s):
                // 1.5 s to spare for a loaded machine's late timers (with 0.5 s, CI's parallel
                // test run once woke it too late, and the order never executed).
                $0.clockSkewMilliseconds = 10_000
                $0.latencyMilliseconds = 1500
                $0.lateExecutions = 1
                $0.lateExecutionMilliseconds = 2500
            }
            let (order, id) = try await placeMarket(client, "xskew")
            #expect(order.status == "FILLED")
            #expect(sim.simulator.placements(of: id.rawValue) == 1)
            let posts = sim.simulator.requestLog.filter { $0.method == "POST" && $0.path == "/api/v3/order" }
            #expect(posts.map(\.status) == [400, 503])  // the -1021, then the resend executed late
        }
    }

    @Test("a protective STOP_LOSS_LIMIT through the REST client: placed off the book, its base locked, cancelled cleanly")
    func protectiveStopOverREST() async throws {
        try await withSim { sim in
            let client = try sim.client()
            try await client.synchronizeClock()
            let last = try await client.tickerPrice(symbol: SimHarness.symbol).value
            let stopPrice = try Price(last.multiplied(by: ExactDecimal(significand: 9, scale: 1)).rounded(scale: 2, rule: .down))
            let limitPrice = try Price(last.multiplied(by: ExactDecimal(significand: 89, scale: 2)).rounded(scale: 2, rule: .down))
            let id = try newClientOrderId("stop")
            let placed = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .sell, type: .stopLossLimit, timeInForce: .gtc,
                                                               quantity: Quantity(parsing: "0.01"), price: limitPrice, stopPrice: stopPrice,
                                                               clientOrderId: id))
            #expect(placed.status == "NEW")
            let queried = try await client.queryOrder(symbol: SimHarness.symbol, clientOrderId: id)
            #expect(queried.type == "STOP_LOSS_LIMIT")
            #expect(try queried.stopPriceValue == stopPrice)
            #expect(queried.isWorking == false)
            #expect(try await client.openOrders(symbol: SimHarness.symbol).map(\.clientOrderId) == [id.rawValue])
            let canceled = try await client.cancelOrder(symbol: SimHarness.symbol, clientOrderId: id)
            #expect(canceled.status == "CANCELED")
            // A stop whose trigger the price has already passed is refused, as Binance does.
            let refused = await #expect(throws: GordonError.self) {
                _ = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .sell, type: .stopLossLimit, timeInForce: .gtc,
                                                          quantity: Quantity(parsing: "0.01"), price: limitPrice,
                                                          stopPrice: try Price(last.multiplied(by: ExactDecimal(2)).rounded(scale: 2, rule: .down)),
                                                          clientOrderId: newClientOrderId("stop2")))
            }
            #expect(refused?.message.contains("Order would trigger immediately") == true)
        }
    }
}
