public import GordonDomain
import GordonExchange
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// The intents consumer's handler: the verdict on each intent, recorded in the consumer's
/// transaction (which also marks the intent handled). Accepted, it becomes a PENDING_NEW
/// order for `OrderPlacer`; refused, a REJECTED order with the reason and an update to the
/// bot. Nothing here talks to the exchange but for the last price and the free balances the
/// checks need.
public final class IntentIntake: Sendable {
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var refused: [PreTradeRefusal.Code: Int] = [:]
        public var duplicates = 0
    }

    let limits: TradingLimits
    let market: @Sendable (Symbol) async throws(GordonError) -> (lastPrice: Price, free: [Asset: ExactDecimal])
    let logger: Logger
    let ids: EventIdGenerator
    private let counters = NIOLockedValueBox(Counters())
    /// Told each accepted intent (before its transaction commits: if the commit fails, the
    /// placer finds nothing new, and the redelivered intent is accepted again).
    let accepted: @Sendable (ClientOrderId) -> Void

    public init(limits: TradingLimits, logger: Logger, ids: EventIdGenerator = EventIdGenerator(),
                market: @escaping @Sendable (Symbol) async throws(GordonError) -> (lastPrice: Price, free: [Asset: ExactDecimal]),
                accepted: @escaping @Sendable (ClientOrderId) -> Void) {
        self.limits = limits
        self.logger = logger
        self.ids = ids
        self.market = market
        self.accepted = accepted
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    public func handle(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        guard case .orderIntent(let envelope) = event else { return }
        let intent = envelope.payload
        let order = RecordedOrder(intent)
        let (lastPrice, free) = try await market(intent.symbol)
        let halted = try await ExecutorRecords.isHalted(on: connection, logger: logger)
        let desired = try await ExecutorRecords.desiredState(of: intent.botId, on: connection, logger: logger)
        let position = try await ExecutorRecords.position(of: intent.botId, symbol: intent.symbol, on: connection, logger: logger)
        let open = try await ExecutorRecords.openOrders(of: intent.botId, symbol: intent.symbol, on: connection, logger: logger)
        var gross = ExactDecimal.zero
        for (symbol, quantity) in try await ExecutorRecords.holdings(on: connection, logger: logger) {
            // Other symbols are valued at this one's price only when it is the same symbol;
            // a multi-symbol book needs their prices too (one symbol per deployment today).
            if symbol == intent.symbol { gross = try gross.adding(quantity.multiplied(by: lastPrice.value)) }
        }
        let context = PreTradeContext(halted: halted, desiredState: desired, openOrders: open.count, position: position.quantity,
                                      openBuyNotional: open.buyNotional, openSellQuantity: open.sellQuantity, lastPrice: lastPrice,
                                      grossExposure: gross, free: free)
        let checked = try Self.checkedRequest(intent, lastPrice: lastPrice)
        if let refusal = PreTradeCheck.evaluate(checked, limits: limits, context: context) {
            _ = try await ExecutorRecords.reject(order, reason: "\(refusal.code.rawValue): \(refusal.message)", estimatedQuantity: checked.quantity,
                                             at: Timestamp(milliseconds: envelope.occurredAt.milliseconds), ids: ids,
                                             traceId: envelope.traceId, ifAbsent: true, on: connection, logger: logger)
            counters.withLockedValue { $0.refused[refusal.code, default: 0] += 1 }
            logger.notice("intent refused", metadata: [
                "intent": "\(intent.intentId.rawValue)", "bot": "\(intent.botId.rawValue)", "code": "\(refusal.code.rawValue)",
                "reason": "\(refusal.message)", "trace_id": "\(envelope.traceId.hex)",
            ])
            return
        }
        guard try await ExecutorRecords.insertPending(order, on: connection, logger: logger) else {
            counters.withLockedValue { $0.duplicates += 1 }
            return
        }
        counters.withLockedValue { $0.accepted += 1 }
        logger.info("intent accepted", metadata: [
            "intent": "\(intent.intentId.rawValue)", "bot": "\(intent.botId.rawValue)", "side": "\(intent.side.rawValue)",
            "trace_id": "\(envelope.traceId.hex)",
        ])
        accepted(intent.intentId)
    }

    /// The request the checks see: a quote-sized market order as the base quantity its quote
    /// amount buys at the last price (rounded up, so the check never sees less than is meant).
    static func checkedRequest(_ intent: OrderIntentEvent, lastPrice: Price) throws(GordonError) -> OrderRequest {
        if let request = intent.orderRequest { return request }
        guard let quote = intent.quoteOrderQuantity, lastPrice.value.isPositive else {
            throw GordonError(.invalidOrder, "an intent needs a quantity or a quote amount", context: ["intent": intent.intentId.rawValue])
        }
        let quantity = try Quantity(quote.value.divided(by: lastPrice.value, scale: 8, rounding: .up))
        return try OrderRequest(clientOrderId: intent.intentId, botId: intent.botId, symbol: intent.symbol, side: intent.side,
                                type: .market, quantity: quantity)
    }
}
