import GordonDomain
import GordonExecutor
import GordonKernel
import Testing

/// Reconciliation as a plain value: what the shell read goes in, what to read next and what
/// was found come out. No socket, clock or database.
@Suite("gordon-executor: reconciliation")
struct ReconciliationTests {
    static let t0 = Timestamp(milliseconds: 1_704_067_200_000)

    /// A LIMIT BUY of 0.01 BTC at 42000 in `status`, `executed` of it done.
    static func order(_ id: String, _ status: OrderStatus, executed: String = "0", exchangeId: Int64? = 7,
                      createdAt: Timestamp = t0) throws -> Order {
        let quantity = try Quantity(parsing: executed)
        return try Order(clientOrderId: try ClientOrderId(id), exchangeOrderId: status == .pendingNew ? nil : exchangeId, botId: try BotId("alpha"),
                         symbol: try Symbol("BTCUSDT"), side: .buy, type: .limit, timeInForce: .gtc, price: try Price(parsing: "42000"),
                         quantity: try Quantity(parsing: "0.01"), executedQuantity: quantity,
                         cumulativeQuoteQuantity: quantity.value * (try ExactDecimal(parsing: "42000")), status: status,
                         createdAt: createdAt, updatedAt: createdAt)
    }

    /// Runs one reconciliation through every step with these reads; returns its report.
    func run(_ machine: inout Reconciliation, gordon: [Order], exchange: [Order], records: [Order] = [],
             answers: [ClientOrderId: Order?] = [:], expected: [Asset: ExactDecimal] = [:], balances: [Balance] = [],
             now: Timestamp = t0) throws -> ReconciliationReport {
        var action = machine.start(.timer)
        while true {
            switch action {
            case .listOpenOrders: action = machine.openOrdersListed(gordon: gordon, exchange: exchange)
            case .readGordonRecords(let ids): action = machine.gordonRecordsRead(records.filter { ids.contains($0.clientOrderId) })
            case .lookUp(let orders): action = machine.lookedUp(Dictionary(uniqueKeysWithValues: orders.map { ($0.clientOrderId, answers[$0.clientOrderId] ?? nil) }), now: now)
            case .readBalances: action = machine.balancesRead(expected: expected, exchange: balances)
            case .report(let report, _): return report
            case .none: throw GordonError(.internalInvariant, "the machine stopped without a report")
            }
        }
    }

    @Test("agreement is clean, and asks only for the open orders and the balances")
    func agreementIsClean() throws {
        var machine = Reconciliation()
        let open = try Self.order("a1", .new)
        #expect(machine.start(.start) == .listOpenOrders)
        #expect(machine.openOrdersListed(gordon: [open], exchange: [open]) == .readBalances)
        let action = machine.balancesRead(expected: [.usdt: 1000], exchange: [try Balance(asset: .usdt, free: 580, locked: 420)])
        guard case .report(let report, listAgain: false) = action else {
            Issue.record("expected a report, got \(action)")
            return
        }
        #expect(report.isClean && report.advanced.isEmpty)
    }

    @Test("a fill the stream missed advances Gordon's record to the exchange's state")
    func missedFillAdvances() throws {
        var machine = Reconciliation()
        let ours = try Self.order("a1", .new)
        let theirs = try Self.order("a1", .partiallyFilled, executed: "0.004")
        let report = try run(&machine, gordon: [ours], exchange: [theirs])
        #expect(report.advanced.map(\.status) == [.partiallyFilled])
        #expect(report.advanced.first?.executedQuantity == (try Quantity(parsing: "0.004")))
        #expect(report.isClean && report.balancesDeferred, "balances wait for the advanced records")
    }

    @Test("an order Gordon holds open that finished on the exchange is looked up and advanced")
    func finishedOffTheListIsLookedUp() throws {
        var machine = Reconciliation()
        let ours = try Self.order("a1", .new)
        #expect(machine.start(.streamReconnected) == .listOpenOrders)
        #expect(machine.openOrdersListed(gordon: [ours], exchange: []) == .lookUp([ours]))
        _ = machine.lookedUp([ours.clientOrderId: try Self.order("a1", .filled, executed: "0.01")], now: Self.t0)
        guard case .report(let report, _) = machine.balancesRead(expected: [:], exchange: []) else {
            Issue.record("no report")
            return
        }
        #expect(report.advanced.map(\.status) == [.filled] && report.trigger == .streamReconnected)
    }

    @Test("PENDING_NEW unknown to the exchange: in flight inside the placement window, never placed after it")
    func pendingNewByAge() throws {
        let pending = try Self.order("a1", .pendingNew)
        var machine = Reconciliation()
        let early = try run(&machine, gordon: [pending], exchange: [], now: Timestamp(milliseconds: Self.t0.milliseconds + 29_999))
        #expect(early.inFlight == [pending.clientOrderId] && early.neverPlaced.isEmpty)
        let late = try run(&machine, gordon: [pending], exchange: [], now: Timestamp(milliseconds: Self.t0.milliseconds + 30_000))
        #expect(late.neverPlaced == [pending.clientOrderId] && late.inFlight.isEmpty)
        #expect(late.isClean, "a lost placement is not a divergence: its intent may be placed again under the same id")
    }

    @Test("divergences: acknowledged but unknown to the exchange, closed at Gordon but open there, and a state Gordon cannot move to")
    func divergences() throws {
        var machine = Reconciliation()
        let vanished = try Self.order("a1", .new)
        let closedHere = try Self.order("a2", .canceled)
        let filledHere = try Self.order("a3", .filled, executed: "0.01")
        let report = try run(&machine, gordon: [vanished, filledHere], exchange: [try Self.order("a2", .new), try Self.order("a3", .new)],
                             records: [closedHere])
        #expect(report.divergences.map(\.kind) == [.conflicting, .openOnlyAtExchange, .unknownToExchange])
        #expect(report.divergences.map(\.clientOrderId.rawValue) == ["a3", "a2", "a1"])
        #expect(report.advanced.isEmpty, "nothing is written from a divergence")
        #expect(!report.isClean)
    }

    @Test("the same client id under another exchange order id is a conflict, never advanced")
    func reusedClientOrderId() throws {
        var machine = Reconciliation()
        let report = try run(&machine, gordon: [try Self.order("a1", .new, exchangeId: 7)], exchange: [try Self.order("a1", .new, exchangeId: 8)])
        #expect(report.divergences.map(\.kind) == [.conflicting] && report.advanced.isEmpty)
    }

    @Test("an order placed between the two reads is advanced, not called open only at the exchange")
    func placedBetweenReads() throws {
        var machine = Reconciliation()
        let pending = try Self.order("a1", .pendingNew)
        let report = try run(&machine, gordon: [], exchange: [try Self.order("a1", .new)], records: [pending])
        #expect(report.divergences.isEmpty && report.advanced.map(\.status) == [.new])
    }

    @Test("an order the shell did not get an answer for stays in flight")
    func unansweredLookUp() throws {
        var machine = Reconciliation()
        let ours = try Self.order("a1", .new)
        _ = machine.start(.timer)
        #expect(machine.openOrdersListed(gordon: [ours], exchange: []) == .lookUp([ours]))
        _ = machine.lookedUp([:], now: Self.t0)
        guard case .report(let report, _) = machine.balancesRead(expected: [:], exchange: []) else {
            Issue.record("no report")
            return
        }
        #expect(report.inFlight == [ours.clientOrderId] && report.divergences.isEmpty)
    }

    @Test("an order placed by hand is reported and left alone")
    func handPlacedOrder() throws {
        var machine = Reconciliation()
        let byHand = try Self.order("web_manual1", .new)
        let report = try run(&machine, gordon: [], exchange: [byHand])
        #expect(report.unknownToGordon == [byHand] && report.advanced.isEmpty && report.neverPlaced.isEmpty)
    }

    @Test("an account holding less than Gordon's records by more than the tolerance diverges; dust, or holding more, does not", arguments: [
        ("999.99999999", false), ("999.99999998", true), ("999.9", true), ("1000.5", false),
    ])
    func balances(_ held: String, _ diverges: Bool) throws {
        var machine = Reconciliation()
        let report = try run(&machine, gordon: [], exchange: [], expected: [.usdt: 1000, .btc: .zero],
                             balances: [try Balance(asset: .usdt, free: try ExactDecimal(parsing: held), locked: .zero)])
        #expect(report.balanceDivergences.map(\.asset) == (diverges ? [.usdt] : []))
    }

    @Test("a trigger during a run is not lost: the run reports, and the next one has already begun")
    func triggerDuringARun() throws {
        var machine = Reconciliation()
        #expect(machine.start(.timer) == .listOpenOrders)
        #expect(machine.start(.outcomeUnknown) == .none)
        #expect(machine.start(.timer) == .none, "a later, less urgent reason does not replace it")
        #expect(machine.openOrdersListed(gordon: [], exchange: []) == .readBalances)
        guard case .report(let first, listAgain: true) = machine.balancesRead(expected: [:], exchange: []) else {
            Issue.record("the queued trigger did not start a run")
            return
        }
        #expect(first.trigger == .timer)
        #expect(machine.openOrdersListed(gordon: [], exchange: []) == .readBalances, "the second run is at its first step")
        guard case .report(let second, listAgain: false) = machine.balancesRead(expected: [:], exchange: []) else {
            Issue.record("no second report")
            return
        }
        #expect(second.trigger == .outcomeUnknown)
    }

    @Test("a failed read ends the run without a report; answers out of step are ignored")
    func failureAndStrayAnswers() throws {
        var machine = Reconciliation()
        #expect(machine.openOrdersListed(gordon: [], exchange: []) == .none, "nothing asked, nothing taken")
        #expect(machine.start(.timer) == .listOpenOrders)
        #expect(machine.failed() == .none && !machine.isRunning)
        #expect(machine.start(.timer) == .listOpenOrders)
    }
}
