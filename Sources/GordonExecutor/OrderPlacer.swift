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
        public var outcomeUnknown = 0
        public var fills = 0
        public var lastPlacementMilliseconds = 0.0
    }

    let rest: BinanceRESTClient
    let rules: @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?
    let connect: @Sendable () async throws -> PostgresConnection
    let logger: Logger
    let ids: EventIdGenerator
    let pollEvery: Duration
    let executed: @Sendable () -> Void
    private let sentHere = NIOLockedValueBox<Set<ClientOrderId>>([])
    private let counters = NIOLockedValueBox(Counters())
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    public init(rest: BinanceRESTClient, logger: Logger, ids: EventIdGenerator = EventIdGenerator(), pollEvery: Duration = .seconds(2),
                rules: @escaping @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?,
                connect: @escaping @Sendable () async throws -> PostgresConnection,
                executed: @escaping @Sendable () -> Void = {}) {
        self.rest = rest
        self.executed = executed
        self.rules = rules
        self.connect = connect
        self.logger = logger
        self.ids = ids
        self.pollEvery = pollEvery
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// An intent accepted by this process: its order was never sent, and a round starts now.
    public func accepted(_ id: ClientOrderId) {
        acceptedHere.withLockedValue { _ = $0.insert(id) }
        wakeUp.yield()
    }

    /// Rounds until cancelled: on each wake-up or every `pollEvery`.
    public func run() async {
        var connection: PostgresConnection?
        while !Task.isCancelled {
            do {
                if connection == nil { connection = try await connect() }
                try await round(on: connection!)
            } catch {
                if Task.isCancelled { break }
                logger.warning("order placement round failed; retrying", metadata: ["error": "\(error)"])
                try? await connection?.close()
                connection = nil
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in self.wakeUps { return } }
                group.addTask { try? await Task.sleep(for: self.pollEvery) }
                await group.next()
                group.cancelAll()
            }
        }
        try? await connection?.close()
    }

    /// Places every pending order once.
    public func round(on connection: PostgresConnection) async throws {
        for order in try await ExecutorRecords.pending(on: connection, logger: logger) {
            if Task.isCancelled { return }
            try await place(order, on: connection)
        }
    }

    func place(_ recorded: RecordedOrder, on connection: PostgresConnection) async throws {
        let traceId = TraceId.random()
        let order: NewOrder
        switch await conformed(recorded) {
        case .success(let conforming):
            order = conforming
        case .failure(let error):
            // Binance would refuse it too: refused here, without spending a request.
            try await reject(recorded, reason: "\(error.code.rawValue): \(error.message)", traceId: traceId, on: connection)
            return
        }
        let neverSent = isFromThisProcess(recorded.clientOrderId) && sentHere.withLockedValue { $0.insert(recorded.clientOrderId).inserted }
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
            return
        case .failure(let error) where Self.isRefusal(error):
            counters.withLockedValue { $0.rejectedByExchange += 1 }
            try await reject(recorded, reason: "\(error.code.rawValue): \(error.message)", traceId: traceId, on: connection)
            return
        case .failure(let error):
            throw error  // not placed (unreachable, rate-limited, banned): the next round tries again
        }
        let elapsed = started.duration(to: .now)
        executed()
        let placed = try response.order(botId: recorded.botId, createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        let fills = try await fills(of: response, placed: placed, clientOrderId: recorded.clientOrderId)
        let recordedFills = try await connection.withTransaction(logger: logger) { connection in
            .commit(try await ExecutorRecords.recordExecution(placed, fills: fills, ids: ids, traceId: traceId, on: connection, logger: logger))
        }
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

    /// Binance said no to this order (it is certainly not on the book): recorded as REJECTED.
    static func isRefusal(_ error: GordonError) -> Bool {
        [.exchangeRejected, .insufficientBalance, .filterFailure, .invalidOrder, .duplicateOrder].contains(error.code)
    }

    /// The order's trades: from a FULL answer, or (an order found by query) the trade list.
    private func fills(of response: OrderResponse, placed: Order, clientOrderId: ClientOrderId) async throws(GordonError) -> [Fill] {
        if response.fills != nil || placed.executedQuantity.isZero { return try response.domainFills() }
        var fills: [Fill] = []
        for trade in try await rest.myTrades(symbol: placed.symbol, orderId: placed.exchangeOrderId) {
            fills.append(try trade.fill(clientOrderId: clientOrderId))
        }
        return fills
    }

    private func reject(_ recorded: RecordedOrder, reason: String, traceId: TraceId, on connection: PostgresConnection) async throws {
        let estimate = try recorded.quantity ?? Quantity(ExactDecimal(significand: 1, scale: 8))
        try await connection.withTransaction(logger: logger) { connection in
            try await ExecutorRecords.reject(recorded, reason: reason, estimatedQuantity: estimate,
                                             at: Timestamp(milliseconds: rest.serverNowMilliseconds), ids: ids, traceId: traceId,
                                             on: connection, logger: logger)
            return .commit(())
        }
        logger.notice("order refused", metadata: ["clientOrderId": "\(recorded.clientOrderId.rawValue)", "reason": "\(reason)"])
    }

    /// Orders the intake accepted while this process ran; anything else pending was recorded
    /// by an earlier process, which may have sent it.
    private let acceptedHere = NIOLockedValueBox<Set<ClientOrderId>>([])
    private func isFromThisProcess(_ id: ClientOrderId) -> Bool { acceptedHere.withLockedValue { $0.contains(id) } }
}
