public import GordonDomain
public import GordonExchange
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// Sends PENDING_NEW orders to the exchange, one at a time, oldest first, and records what it
/// answered; woken by the intake, and on a timer for anything left behind.
///
/// Every order is placed under its intent id as client order id through
/// `BinanceRESTClient.placeOrder`, which never places an order twice. An order this process
/// has not sent itself (recorded before a crash or a restart) is a resubmission: the exchange
/// is asked for it first, and it is sent only once an earlier send can no longer arrive. An
/// order whose fate stays unknown stays PENDING_NEW and is resolved on the next round.
public final class OrderPlacer: Sendable {
    public struct Counters: Sendable, Equatable {
        public var placed = 0
        public var rejectedByExchange = 0
        /// By Binance's error code (`-2010`), or Gordon's when Binance gave none.
        public var rejectedByCode: [String: Int] = [:]
        public var outcomeUnknown = 0
        public var fills = 0
        public var lastPlacementMilliseconds = 0.0
        /// Rounds completed: each places every pending order once.
        public var rounds = 0
    }

    let rest: BinanceRESTClient
    let rules: @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?
    let connect: @Sendable () async throws -> PostgresConnection
    let logger: Logger
    let ids: EventIdGenerator
    let pollEvery: Duration
    /// How long one of the placer's database steps may take. A connection can hang without
    /// failing (PostgreSQL killed as a query is sent): a placement stuck on one would hold
    /// back every later order, and every flatten, which waits for the placement under way.
    let databaseDeadline: Duration
    let executed: @Sendable () -> Void
    /// Told each placement whose fate stayed unknown: reconciliation looks for it.
    let outcomeUnknown: @Sendable () -> Void
    private let claims = NIOLockedValueBox(Claims())
    private let counters = NIOLockedValueBox(Counters())
    private let wakeUp = WakeSignal()

    public init(rest: BinanceRESTClient, logger: Logger, ids: EventIdGenerator = EventIdGenerator(), pollEvery: Duration = .seconds(2),
                databaseDeadline: Duration = .seconds(15),
                rules: @escaping @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?,
                connect: @escaping @Sendable () async throws -> PostgresConnection,
                executed: @escaping @Sendable () -> Void = {}, outcomeUnknown: @escaping @Sendable () -> Void = {}) {
        self.rest = rest
        self.outcomeUnknown = outcomeUnknown
        self.executed = executed
        self.rules = rules
        self.connect = connect
        self.logger = logger
        self.ids = ids
        self.pollEvery = pollEvery
        self.databaseDeadline = databaseDeadline
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// An intent accepted by this process: its order was never sent. Told before the
    /// acceptance commits; `wake()` once it has.
    public func accepted(_ id: ClientOrderId) {
        claims.withLockedValue { _ = $0.acceptedHere.insert(id) }
    }

    /// Takes pending orders back before an emergency flatten: none of them is sent from now
    /// on. Waits for a placement of one of them already under way to be answered and
    /// recorded, so the flatten finds it on the book. Returns those never sent, which the
    /// flatten refuses; the others (an earlier process may have sent them) are looked up and
    /// refused here once they can no longer arrive, as while halted.
    public func withdraw(_ ids: [ClientOrderId]) async -> Set<ClientOrderId> {
        let withdrawn = Set(ids)
        while true {
            let busy = claims.withLockedValue { claims in
                claims.withdrawn.formUnion(withdrawn)
                return claims.inFlight.map(withdrawn.contains) ?? false
            }
            if !busy { break }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let stillBusy = claims.withLockedValue { claims in
                    guard let inFlight = claims.inFlight, withdrawn.contains(inFlight) else { return false }
                    claims.idleWaiters.append(waiter)
                    return true
                }
                if !stillBusy { waiter.resume() }
            }
        }
        return claims.withLockedValue { claims in withdrawn.filter { claims.acceptedHere.contains($0) && !claims.sentHere.contains($0) } }
    }

    /// Starts a round now: something new is pending.
    public func wake() {
        wakeUp.signal()
    }

    /// Rounds until cancelled: on each wake-up or every `pollEvery`.
    public func run() async {
        var connection: PostgresConnection?
        while !Task.isCancelled {
            do {
                if connection == nil {
                    let connect = self.connect
                    connection = try await withDeadline(databaseDeadline, timeoutError: { self.stuck("connecting") }) { try await connect() }
                }
                try await round(on: connection!)
            } catch {
                if Task.isCancelled { break }
                logger.warning("order placement round failed; retrying", metadata: ["error": "\(error)"])
                try? await connection?.close()
                connection = nil
            }
            await wakeUp.wait(timeout: pollEvery)
        }
        try? await connection?.close()
    }

    /// Places every pending order once.
    public func round(on connection: PostgresConnection) async throws {
        let pending = try await onDatabase(connection, "reading the pending orders") { connection in
            try await ExecutorRecords.pending(on: connection, logger: self.logger)
        }
        for order in pending {
            if Task.isCancelled { return }
            try await place(order, on: connection)
        }
        counters.withLockedValue { $0.rounds += 1 }
    }

    func place(_ recorded: RecordedOrder, on connection: PostgresConnection) async throws {
        let traceId = TraceId.random()
        guard claims.withLockedValue({ $0.begin(recorded.clientOrderId) }) else {
            try await holdBack(recorded, because: .withdrawn, traceId: traceId, on: connection)
            return
        }
        defer { claims.withLockedValue { $0.end() }.forEach { $0.resume() } }
        let order: NewOrder
        switch await conformed(recorded) {
        case .success(let conforming):
            order = conforming
        case .failure(let error):
            // Binance would refuse it too: refused here, without spending a request.
            try await reject(recorded, reason: "\(error.code.rawValue): \(error.message)", traceId: traceId, on: connection)
            return
        }
        if !recorded.isFlatten, try await onDatabase(connection, "reading the halt latch", { connection in
            try await ExecutorRecords.isHalted(on: connection, logger: self.logger)
        }) {
            try await holdBack(recorded, because: .halted, traceId: traceId, on: connection)
            return
        }
        let neverSent = claims.withLockedValue { $0.markSent(recorded.clientOrderId) }
        let history: PlacementHistory = neverSent ? .firstSubmission : .resubmission(lastSentServerTimestamp: nil)
        let started = ContinuousClock.now
        let response: OrderResponse
        switch await send(order, history: history) {
        case .success(let answer):
            response = answer
        case .failure(let error) where error.code == .orderOutcomeUnknown:
            counters.withLockedValue { $0.outcomeUnknown += 1 }
            logger.error("order outcome unknown; it stays pending and is resolved on the next round", metadata: [
                "clientOrderId": "\(recorded.clientOrderId.rawValue)", "error": "\(error)",
            ])
            outcomeUnknown()
            return
        case .failure(let error) where Self.isRefusal(error):
            counters.withLockedValue {
                $0.rejectedByExchange += 1
                $0.rejectedByCode[error.context["binanceCode"].flatMap { $0 == "none" ? nil : $0 } ?? error.code.rawValue, default: 0] += 1
            }
            try await reject(recorded, reason: "\(error.code.rawValue): \(error.message)", traceId: traceId, on: connection)
            return
        case .failure(let error):
            // Certainly not on the book (the client says so of every error but an unknown
            // outcome): a first submission stays one, so a halt before the retry refuses it.
            if neverSent { claims.withLockedValue { _ = $0.sentHere.remove(recorded.clientOrderId) } }
            throw error  // not placed (unreachable, rate-limited, banned): the next round tries again
        }
        try await record(response, of: recorded, sentAt: started, traceId: traceId, on: connection)
    }

    /// Why a pending order is not sent: the halt latch closed, or a flatten took it back.
    enum HoldBack {
        case halted, withdrawn

        var neverSent: String {
            switch self {
            case .halted: "halted: the halt latch closed before the order was sent"
            case .withdrawn: "flatten: withdrawn before the order was sent"
            }
        }

        var notPlaced: String {
            switch self {
            case .halted: "halted: never placed, and the halt latch forbids placing it now"
            case .withdrawn: "flatten: never placed, and withdrawn by the flatten"
            }
        }
    }

    /// An order that may not be sent now. One never sent is refused at once; one an earlier
    /// process may have sent is looked up, recorded if the exchange has it, and refused once
    /// it can no longer arrive (`placementWindow`).
    private func holdBack(_ recorded: RecordedOrder, because cause: HoldBack, traceId: TraceId, on connection: PostgresConnection) async throws {
        let id = recorded.clientOrderId
        if claims.withLockedValue({ $0.acceptedHere.contains(id) && !$0.sentHere.contains(id) }) {
            try await reject(recorded, reason: cause.neverSent, traceId: traceId, on: connection)
            return
        }
        let error: GordonError
        switch await lookUp(recorded) {
        case .success(let answer):
            try await record(answer, of: recorded, sentAt: .now, traceId: traceId, on: connection)
            return
        case .failure(let failure):
            error = failure
        }
        guard error.code == .unknownOrder else { throw error }
        // Not on the book; an earlier send may still arrive until the window has passed.
        guard recorded.ageMilliseconds >= placementWindowMilliseconds else { return }
        try await reject(recorded, reason: cause.notPlaced, traceId: traceId, on: connection)
    }

    /// A PENDING_NEW order younger than this may still be on its way from an earlier send.
    let placementWindowMilliseconds: Int64 = 30_000

    private func lookUp(_ order: RecordedOrder) async -> Result<OrderResponse, GordonError> {
        do {
            return .success(try await rest.queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId))
        } catch {
            return .failure(error)
        }
    }

    /// The exchange's answer recorded: the order, its trades, the position and the events.
    private func record(_ response: OrderResponse, of recorded: RecordedOrder, sentAt started: ContinuousClock.Instant, traceId: TraceId,
                        on connection: PostgresConnection) async throws {
        let elapsed = started.duration(to: .now)
        executed()
        let placed = try response.order(botId: recorded.botId, createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        let fills = try await fills(of: response, placed: placed)
        let recordedFills = try await onDatabase(connection, "recording an execution") { connection in
            try await connection.withTransaction(logger: self.logger) { connection in
                .commit(try await ExecutorRecords.recordExecution(placed, fills: fills, ids: self.ids, traceId: traceId, on: connection,
                                                                  logger: self.logger))
            }
        }
        claims.withLockedValue { $0.forget(recorded.clientOrderId) }
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        counters.withLockedValue {
            $0.placed += 1
            $0.fills += recordedFills.count
            $0.lastPlacementMilliseconds = milliseconds
        }
        logger.info("order placed", metadata: [
            "clientOrderId": "\(recorded.clientOrderId.rawValue)", "status": "\(placed.status.rawValue)",
            "executed": "\(placed.executedQuantity.value)", "fills": "\(recordedFills.count)",
        ])
    }

    /// The order as Binance will take it: rounded to the symbol's filters and checked.
    private func conformed(_ recorded: RecordedOrder) async -> Result<NewOrder, GordonError> {
        do {
            let order = try NewOrder(symbol: recorded.symbol, side: recorded.side, type: recorded.type, timeInForce: recorded.timeInForce,
                                     quantity: recorded.quantity, quoteOrderQuantity: recorded.quoteOrderQuantity, price: recorded.price,
                                     stopPrice: recorded.stopPrice, clientOrderId: recorded.clientOrderId)
            guard let symbolRules = try await rules(recorded.symbol) else { return .success(order) }
            return .success(try order.conforming(to: symbolRules.filters))
        } catch {
            return .failure(error)
        }
    }

    private func send(_ order: NewOrder, history: PlacementHistory) async -> Result<OrderResponse, GordonError> {
        do {
            return .success(try await rest.placeOrder(order, history: history))
        } catch {
            return .failure(error)
        }
    }

    /// One database step, given up after `databaseDeadline`: the connection is closed (the
    /// step fails, the placement under way ends) and the next round connects anew.
    private func onDatabase<Value: Sendable>(_ connection: PostgresConnection, _ step: String,
                                             _ body: @escaping @Sendable (PostgresConnection) async throws -> Value) async throws -> Value {
        try await withDeadline(databaseDeadline, timeoutError: { self.stuck(step) }, onTimeout: { try? await connection.close() }) {
            try await body(connection)
        }
    }

    private func stuck(_ step: String) -> GordonError {
        GordonError(.databaseUnreachable, "order placement: \(step) did not finish within \(databaseDeadline)")
    }

    /// Binance said no to this order (it is certainly not on the book): recorded as REJECTED.
    static func isRefusal(_ error: GordonError) -> Bool {
        [.exchangeRejected, .insufficientBalance, .filterFailure, .invalidOrder, .duplicateOrder].contains(error.code)
    }

    /// The order's trades: from a FULL answer, or (an order found by query) the trade list.
    private func fills(of response: OrderResponse, placed: Order) async throws(GordonError) -> [Fill] {
        if response.fills != nil { return try response.domainFills() }
        return try await rest.fills(of: placed)
    }

    private func reject(_ recorded: RecordedOrder, reason: String, traceId: TraceId, on connection: PostgresConnection) async throws {
        let at = Timestamp(milliseconds: rest.serverNowMilliseconds)
        _ = try await onDatabase(connection, "recording a refusal") { connection in
            try await connection.withTransaction(logger: self.logger) { connection in
                .commit(try await ExecutorRecords.reject(recorded, reason: reason, at: at, ids: self.ids, traceId: traceId,
                                                         on: connection, logger: self.logger))
            }
        }
        claims.withLockedValue { $0.forget(recorded.clientOrderId) }
        logger.notice("order refused", metadata: ["clientOrderId": "\(recorded.clientOrderId.rawValue)", "reason": "\(reason)"])
    }

}

/// Which pending orders this process may send, and the one it is sending.
private struct Claims {
    /// Orders the intake accepted while this process ran; anything else pending was recorded
    /// by an earlier process, which may have sent it.
    var acceptedHere: Set<ClientOrderId> = []
    var sentHere: Set<ClientOrderId> = []
    /// Taken back by a flatten: never sent from now on.
    var withdrawn: Set<ClientOrderId> = []
    var inFlight: ClientOrderId?
    var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// Whether the order may be placed now; if so, it is the one in flight until `end()`.
    mutating func begin(_ id: ClientOrderId) -> Bool {
        guard !withdrawn.contains(id) else { return false }
        inFlight = id
        return true
    }

    /// The placement is over: who waited for it may go on.
    mutating func end() -> [CheckedContinuation<Void, Never>] {
        inFlight = nil
        defer { idleWaiters = [] }
        return idleWaiters
    }

    /// Whether this is the first send of an order this process accepted.
    mutating func markSent(_ id: ClientOrderId) -> Bool {
        acceptedHere.contains(id) && sentHere.insert(id).inserted
    }

    /// The order is no longer pending: nothing about it is needed any more.
    mutating func forget(_ id: ClientOrderId) {
        acceptedHere.remove(id)
        sentHere.remove(id)
        withdrawn.remove(id)
    }
}

extension BinanceRESTClient {
    /// The trades of one of Gordon's orders on the exchange, as its fills; none before it has
    /// an exchange order id or has executed anything (a trade list without an order id would
    /// be every trade of the symbol).
    func fills(of order: Order) async throws(GordonError) -> [Fill] {
        guard let exchangeId = order.exchangeOrderId, !order.executedQuantity.isZero else { return [] }
        var fills: [Fill] = []
        for trade in try await myTrades(symbol: order.symbol, orderId: exchangeId) {
            fills.append(try trade.fill(clientOrderId: order.clientOrderId))
        }
        return fills
    }
}
