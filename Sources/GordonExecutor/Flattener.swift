public import GordonDomain
public import GordonExchange
public import GordonKernel
public import GordonProtocol
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// The emergency flatten (`RiskCommandEvent` `flatten`, for every bot or one), handled in the
/// risk consumer's transaction and allowed while halted: the pending orders of the bots in
/// scope are taken back from `OrderPlacer` (those never sent are refused, the others booked
/// if the exchange has them), every working order is cancelled, then every position is sold
/// back to the quote asset with a MARKET sell of what the lot size allows and no sell already
/// covers. What remains below one lot is dust: logged and counted, never an order the exchange
/// would refuse.
///
/// The sells are flatten intents (`flatten:` reasons) with ids derived from the command's
/// event id and the bot, recorded PENDING_NEW for `OrderPlacer`: a redelivered command, or a
/// second flatten (two breakers trip at once) before or after the first has sold, places
/// nothing more.
public final class Flattener: Sendable {
    public struct Counters: Sendable, Equatable {
        public var commands = 0
        public var cancelled = 0
        public var sells = 0
        public var dustPositions = 0
        /// Pending orders refused before they were sent.
        public var withdrawn = 0
    }

    let rest: BinanceRESTClient
    let rules: @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?
    let placer: OrderPlacer
    let logger: Logger
    let ids: EventIdGenerator
    private let counters = NIOLockedValueBox(Counters())

    public init(rest: BinanceRESTClient, logger: Logger, ids: EventIdGenerator = EventIdGenerator(),
                rules: @escaping @Sendable (Symbol) async throws(GordonError) -> BinanceExecution.SymbolRules?,
                placer: OrderPlacer) {
        self.rest = rest
        self.rules = rules
        self.placer = placer
        self.logger = logger
        self.ids = ids
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    public func handle(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        guard case .riskCommand(let envelope) = event, envelope.payload.command == .flatten else { return }
        let command = envelope.payload
        let bot: BotId? = if case .bot(let id) = command.target.scope { id } else { nil }
        counters.withLockedValue { $0.commands += 1 }
        logger.warning("flatten: cancelling open orders and selling every position", metadata: [
            "target": "\(command.target)", "issued_by": "\(command.issuedBy)", "reason": "\(command.reason)",
            "trace_id": "\(envelope.traceId.hex)",
        ])
        do {
            try await withdrawPendingOrders(of: bot, command: envelope, on: connection)
            try await cancelWorkingOrders(of: bot, traceId: envelope.traceId, on: connection)
            for (botId, symbol, quantity) in try await positions(of: bot, on: connection) {
                try await sell(quantity, of: symbol, for: botId, command: envelope, on: connection)
            }
        } catch {
            throw ExecutorRecords.failure(error, "flatten")
        }
    }

    /// Strategy orders not yet on the exchange must not land after the flatten has sold.
    private func withdrawPendingOrders(of bot: BotId?, command: EventEnvelope<RiskCommandEvent>, on connection: PostgresConnection) async throws {
        let pending = try await ExecutorRecords.pending(on: connection, logger: logger).filter { order in
            !order.isFlatten && (bot == nil || order.botId == bot)
        }
        guard !pending.isEmpty else { return }
        let neverSent = await placer.withdraw(pending.map(\.clientOrderId))
        let at = Timestamp(milliseconds: rest.serverNowMilliseconds)
        for order in pending where neverSent.contains(order.clientOrderId) {
            let refused = try await ExecutorRecords.reject(order, reason: "\(OrderPlacer.HoldBack.withdrawn.neverSent) (\(command.payload.reason))",
                                                           at: at, ids: ids, traceId: command.traceId, on: connection, logger: logger)
            if refused { counters.withLockedValue { $0.withdrawn += 1 } }
        }
        logger.warning("flatten: pending orders withdrawn", metadata: [
            "refused": "\(neverSent.count)", "left to look up": "\(pending.count - neverSent.count)",
        ])
        for order in pending where !neverSent.contains(order.clientOrderId) {
            try await bookIfPlaced(order, traceId: command.traceId, on: connection)
        }
    }

    /// A pending order that may have reached the exchange (sent by an earlier process, or its
    /// placement here failed with its fate unknown): booked now if the exchange has it, so its
    /// fills are sold below and, if it is still working, it is cancelled with the others. One
    /// the exchange does not know is refused by the placer once it can no longer arrive.
    private func bookIfPlaced(_ order: RecordedOrder, traceId: TraceId, on connection: PostgresConnection) async throws {
        guard let answer = try await unlessUnknown({ () async throws(GordonError) in
            try await rest.queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId)
        }) else { return }
        try await book(try answer.order(botId: order.botId, createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds)),
                       traceId: traceId, on: connection)
    }

    /// The order and its trades as the exchange has them, recorded in the flatten's transaction.
    private func book(_ order: Order, traceId: TraceId, on connection: PostgresConnection) async throws {
        let fills = try await rest.fills(of: order)
        _ = try await ExecutorRecords.recordExecution(order, fills: fills, ids: ids, traceId: traceId, on: connection, logger: logger)
    }

    private func cancelWorkingOrders(of bot: BotId?, traceId: TraceId, on connection: PostgresConnection) async throws {
        var working: [(ClientOrderId, Symbol, BotId)] = []
        for try await (id, symbol, owner) in try await connection.query("""
            SELECT client_order_id, symbol, bot_id FROM trading.orders
            WHERE status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL') AND exchange_order_id IS NOT NULL
              AND (\(bot?.rawValue)::text IS NULL OR bot_id = \(bot?.rawValue))
            """, logger: logger).decode((String, String, String).self) {
            working.append((try ClientOrderId(id), try Symbol(symbol), try BotId(owner)))
        }
        for (id, symbol, owner) in working {
            let now = Timestamp(milliseconds: rest.serverNowMilliseconds)
            let order: Order
            if let answer = try await cancel(symbol: symbol, clientOrderId: id) {
                order = try answer.order(botId: owner, createdAt: now)
                counters.withLockedValue { $0.cancelled += 1 }
            } else {
                // It finished meanwhile (filled, most often), its report perhaps still on the way.
                order = try await rest.queryOrder(symbol: symbol, clientOrderId: id).order(botId: owner, createdAt: now)
            }
            // Its trades are booked before the positions are read, or the sells below would
            // leave behind what it bought.
            try await book(order, traceId: traceId, on: connection)
        }
    }

    /// The cancelled order, or nil when the exchange no longer knows it as open.
    private func cancel(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> OrderResponse? {
        try await unlessUnknown { () async throws(GordonError) in try await rest.cancelOrder(symbol: symbol, clientOrderId: clientOrderId) }
    }

    /// The exchange's answer, or nil when it does not know the order (-2013, -2011).
    /// (Through a Result: Swift 6.2's SIL verifier rejects a `catch where` on a typed throw.)
    private func unlessUnknown(_ call: () async throws(GordonError) -> OrderResponse) async throws(GordonError) -> OrderResponse? {
        let result: Result<OrderResponse, GordonError>
        do { result = .success(try await call()) } catch { result = .failure(error) }
        switch result {
        case .success(let answer): return answer
        case .failure(let error) where error.code == .unknownOrder: return nil
        case .failure(let error): throw error
        }
    }

    /// What each bot holds and is not already selling: a sell still pending or working (an
    /// earlier flatten's, not yet placed, or one that could not be withdrawn) will sell its
    /// part, and selling it twice would sell what another bot holds in the same account.
    private func positions(of bot: BotId?, on connection: PostgresConnection) async throws -> [(BotId, Symbol, ExactDecimal)] {
        var rows: [(BotId, Symbol, ExactDecimal)] = []
        for try await (owner, symbol, quantity) in try await connection.query("""
            SELECT p.bot_id, p.symbol, (p.quantity - COALESCE((
                       SELECT sum(GREATEST(o.quantity - o.executed_quantity, 0)) FROM trading.orders o
                       WHERE o.bot_id = p.bot_id AND o.symbol = p.symbol AND o.side = 'SELL'
                         AND o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL')), 0))::text
            FROM trading.positions p
            WHERE p.quantity > 0 AND (\(bot?.rawValue)::text IS NULL OR p.bot_id = \(bot?.rawValue)) ORDER BY p.bot_id, p.symbol
            """, logger: logger).decode((String, String, String).self) {
            let unsold = try ExactDecimal(parsing: quantity)
            guard unsold.isPositive else {
                logger.notice("flatten: the position is already being sold", metadata: ["bot": "\(owner)", "symbol": "\(symbol)"])
                continue
            }
            rows.append((try BotId(owner), try Symbol(symbol), unsold))
        }
        return rows
    }

    private func sell(_ held: ExactDecimal, of symbol: Symbol, for botId: BotId, command: EventEnvelope<RiskCommandEvent>,
                      on connection: PostgresConnection) async throws {
        var quantity = held
        if let filters = try await rules(symbol)?.filters, let rounded = try? filters.roundedQuantity(try Quantity(held), type: .market) {
            quantity = rounded.value
        }
        guard quantity.isPositive else {
            counters.withLockedValue { $0.dustPositions += 1 }
            logger.notice("flatten: position below one lot left as dust", metadata: [
                "bot": "\(botId.rawValue)", "symbol": "\(symbol.rawValue)", "quantity": "\(held)",
            ])
            return
        }
        let intent = try OrderIntentEvent(intentId: Self.intentId(command: command.eventId, bot: botId, symbol: symbol), botId: botId,
                                          symbol: symbol, side: .sell, orderType: .market, quantity: try Quantity(quantity),
                                          reason: "flatten: \(command.payload.reason)".prefix(200).description,
                                          createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        let event = EventEnvelope(payload: intent, source: .executor, traceId: command.traceId, occurredAt: intent.createdAt, ids: ids)
        // No RETURNING: the executor may not read intents (row-level security would refuse
        // it); whether this flatten is new shows in the order row instead.
        try await connection.query("""
            INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, quantity, reason, created_at)
            VALUES (\(intent.intentId.rawValue), \(event.eventId.string)::uuid, \(event.traceId.hex), \(botId.rawValue), \(symbol.rawValue),
                    'SELL', 'MARKET', \(quantity.description)::numeric, \(intent.reason),
                    'epoch'::timestamptz + \(intent.createdAt.milliseconds) * interval '1 millisecond')
            ON CONFLICT DO NOTHING
            """, logger: logger)
        guard try await ExecutorRecords.insertPending(RecordedOrder(intent), on: connection, logger: logger) else { return }
        counters.withLockedValue { $0.sells += 1 }
        logger.warning("flatten: selling", metadata: [
            "bot": "\(botId.rawValue)", "symbol": "\(symbol.rawValue)", "quantity": "\(quantity)", "intent": "\(intent.intentId.rawValue)",
        ])
        placer.accepted(intent.intentId)
    }

    /// `f<event id's last 12 hex>-<8 hex of bot and symbol>`: 22 characters.
    static func intentId(command: EventId, bot: BotId, symbol: Symbol) throws(GordonError) -> ClientOrderId {
        var hash: UInt32 = 2_166_136_261
        for byte in "\(bot.rawValue)/\(symbol.rawValue)".utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        let eventHex = String(command.string.filter { $0 != "-" }.suffix(12))
        return try ClientOrderId("f\(eventHex)-\(String(repeating: "0", count: 8 - hex.count))\(hex)")
    }
}
