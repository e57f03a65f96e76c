public import GordonBus
public import GordonDomain
public import GordonKernel
import GordonPostgres
public import GordonProtocol
public import Logging
public import PostgresNIO

/// An order as the executor keeps it in `trading.orders` before and after the exchange hears
/// of it: everything needed to place it (again, after a crash).
public struct RecordedOrder: Sendable, Equatable {
    public let clientOrderId: ClientOrderId
    public let botId: BotId
    public let symbol: Symbol
    public let side: Side
    public let type: OrderType
    public let timeInForce: TimeInForce?
    public let price: Price?
    public let stopPrice: Price?
    public let quantity: Quantity?
    public let quoteOrderQuantity: ExactDecimal?

    public init(_ intent: OrderIntentEvent) {
        clientOrderId = intent.intentId
        botId = intent.botId
        symbol = intent.symbol
        side = intent.side
        type = intent.orderType
        timeInForce = intent.timeInForce
        price = intent.price
        stopPrice = intent.stopPrice
        quantity = intent.quantity
        quoteOrderQuantity = intent.quoteOrderQuantity?.value
    }

    init(clientOrderId: ClientOrderId, botId: BotId, symbol: Symbol, side: Side, type: OrderType, timeInForce: TimeInForce?,
         price: Price?, stopPrice: Price?, quantity: Quantity?, quoteOrderQuantity: ExactDecimal?) {
        self.clientOrderId = clientOrderId
        self.botId = botId
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.quoteOrderQuantity = quoteOrderQuantity
    }
}

/// The executor's reads and writes of `trading`, each inside the caller's transaction.
public enum ExecutorRecords {
    static func failure(_ error: any Error, _ operation: String) -> GordonError {
        (error as? GordonError) ?? PostgresFailure.map(error, context: ["operation": operation])
    }

    public static func isHalted(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        do {
            for try await (halted,) in try await connection.query("SELECT halted FROM trading.v_halt_latch", logger: logger).decode((Bool,).self) {
                return halted
            }
            return false
        } catch { throw failure(error, "read the halt latch") }
    }

    public static func desiredState(of bot: BotId, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> DesiredState {
        do {
            for try await (state,) in try await connection.query(
                "SELECT desired_state FROM trading.v_bot_configs WHERE bot_id = \(bot.rawValue)", logger: logger).decode((String,).self) {
                return DesiredState(rawValue: state) ?? .stopped
            }
            return .stopped  // an unknown bot is not running
        } catch { throw failure(error, "read a bot's desired state") }
    }

    public static func position(of bot: BotId, symbol: Symbol, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> PositionBook {
        do {
            for try await (quantity, entry, realized) in try await connection.query("""
                SELECT quantity::text, average_entry_price::text, realized_pnl::text FROM trading.positions
                WHERE bot_id = \(bot.rawValue) AND symbol = \(symbol.rawValue)
                """, logger: logger).decode((String, String, String).self) {
                return PositionBook(quantity: try ExactDecimal(parsing: quantity), averageEntryPrice: try ExactDecimal(parsing: entry),
                                    realizedProfit: try ExactDecimal(parsing: realized))
            }
            return PositionBook()
        } catch { throw failure(error, "read a position") }
    }

    /// The bot's working orders: how many, and in `symbol` what open buys would still spend
    /// (quote) and open sells would still sell (base).
    public static func openOrders(of bot: BotId, symbol: Symbol, on connection: PostgresConnection,
                                  logger: Logger) async throws(GordonError) -> (count: Int, buyNotional: ExactDecimal, sellQuantity: ExactDecimal) {
        do {
            var result = (count: 0, buyNotional: ExactDecimal.zero, sellQuantity: ExactDecimal.zero)
            for try await (count, buys, sells) in try await connection.query("""
                SELECT count(*)::int,
                       coalesce(sum(CASE WHEN side = 'BUY' AND symbol = \(symbol.rawValue)
                                         THEN coalesce(quote_order_quantity, (quantity - executed_quantity) * coalesce(price, 0)) END), 0)::text,
                       coalesce(sum(CASE WHEN side = 'SELL' AND symbol = \(symbol.rawValue) THEN quantity - executed_quantity END), 0)::text
                FROM trading.orders
                WHERE bot_id = \(bot.rawValue) AND status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL')
                """, logger: logger).decode((Int, String, String).self) {
                result = (count, try ExactDecimal(parsing: buys), try ExactDecimal(parsing: sells))
            }
            return result
        } catch { throw failure(error, "read open orders") }
    }

    /// Every bot's holdings in every symbol (quantity, symbol), for the gross exposure.
    public static func holdings(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [(Symbol, ExactDecimal)] {
        do {
            var rows: [(Symbol, ExactDecimal)] = []
            for try await (symbol, quantity) in try await connection.query(
                "SELECT symbol, quantity::text FROM trading.positions WHERE quantity > 0", logger: logger).decode((String, String).self) {
                rows.append((try Symbol(symbol), try ExactDecimal(parsing: quantity)))
            }
            return rows
        } catch { throw failure(error, "read holdings") }
    }

    /// Records an accepted intent as a PENDING_NEW order; false when it was recorded before.
    public static func insertPending(_ order: RecordedOrder, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        do {
            var inserted = false
            for try await _ in try await connection.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, time_in_force, price, stop_price,
                                            quantity, quote_order_quantity, status)
                VALUES (\(order.clientOrderId.rawValue), \(order.botId.rawValue), \(order.symbol.rawValue), \(order.side.rawValue),
                        \(order.type.rawValue), \(order.timeInForce?.rawValue), \(order.price?.value.description)::numeric,
                        \(order.stopPrice?.value.description)::numeric, \(order.quantity?.value.description ?? "0")::numeric,
                        \(order.quoteOrderQuantity?.description)::numeric, 'PENDING_NEW')
                ON CONFLICT (client_order_id) DO NOTHING RETURNING 1
                """, logger: logger) { inserted = true }
            return inserted
        } catch { throw failure(error, "record a pending order") }
    }

    /// Orders accepted but not yet answered by the exchange, oldest first.
    public static func pending(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [RecordedOrder] {
        do {
            var orders: [RecordedOrder] = []
            for try await row in try await connection.query("""
                SELECT client_order_id, bot_id, symbol, side, order_type, time_in_force, price::text, stop_price::text,
                       quantity::text, quote_order_quantity::text
                FROM trading.orders WHERE status = 'PENDING_NEW' AND exchange_order_id IS NULL ORDER BY created_at, client_order_id
                """, logger: logger).decode((String, String, String, String, String, String?, String?, String?, String, String?).self) {
                let (id, bot, symbol, side, type, tif, price, stop, quantity, quote) = row
                guard let side = Side(rawValue: side), let type = OrderType(rawValue: type) else {
                    throw GordonError(.internalInvariant, "order \(id) has an unknown side or type")
                }
                let base = try ExactDecimal(parsing: quantity)
                orders.append(RecordedOrder(
                    clientOrderId: try ClientOrderId(id), botId: try BotId(bot), symbol: try Symbol(symbol), side: side, type: type,
                    timeInForce: tif.flatMap(TimeInForce.init(rawValue:)), price: try price.map { text throws(GordonError) in try Price(parsing: text) },
                    stopPrice: try stop.map { text throws(GordonError) in try Price(parsing: text) },
                    quantity: base.isPositive ? try Quantity(base) : nil,
                    quoteOrderQuantity: try quote.map { text throws(GordonError) in try ExactDecimal(parsing: text) }))
            }
            return orders
        } catch { throw failure(error, "read pending orders") }
    }

    /// A refusal, by Gordon or the exchange: the order row (created or updated) REJECTED with
    /// its reason, its history row and an `OrderUpdateEvent` for the bot.
    public static func reject(_ order: RecordedOrder, reason: String, estimatedQuantity: Quantity, at time: Timestamp,
                              ids: EventIdGenerator, traceId: TraceId, on connection: PostgresConnection, logger: Logger) async throws(GordonError) {
        let reason = String(reason.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init).prefix(200))
        let update = try OrderUpdateEvent(clientOrderId: order.clientOrderId, botId: order.botId, symbol: order.symbol, side: order.side,
                                          orderType: order.type, status: .rejected, price: order.price,
                                          quantity: order.quantity ?? estimatedQuantity, rejectReason: reason, updatedAt: time)
        let envelope = EventEnvelope(payload: update, source: .executor, traceId: traceId, occurredAt: time, ids: ids)
        do {
            try await connection.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, time_in_force, price, stop_price,
                                            quantity, quote_order_quantity, status, reject_reason)
                VALUES (\(order.clientOrderId.rawValue), \(order.botId.rawValue), \(order.symbol.rawValue), \(order.side.rawValue),
                        \(order.type.rawValue), \(order.timeInForce?.rawValue), \(order.price?.value.description)::numeric,
                        \(order.stopPrice?.value.description)::numeric, \(order.quantity?.value.description ?? "0")::numeric,
                        \(order.quoteOrderQuantity?.description)::numeric, 'REJECTED', \(reason))
                ON CONFLICT (client_order_id) DO UPDATE SET status = 'REJECTED', reject_reason = EXCLUDED.reject_reason, updated_at = now()
                """, logger: logger)
            try await connection.query("""
                INSERT INTO trading.order_events (event_id, client_order_id, status, executed_quantity, cumulative_quote_quantity, reject_reason)
                VALUES (\(envelope.eventId.string)::uuid, \(order.clientOrderId.rawValue), 'REJECTED', 0, 0, \(reason))
                """, logger: logger)
        } catch { throw failure(error, "record a rejection") }
        _ = try await Outbox.enqueue(envelope, orderingKey: "bot:\(order.botId.rawValue)", on: connection, logger: logger)
    }

    /// What the exchange answered for an order: its row brought up to date, a history row, each
    /// new trade with its fill event, the bot's position moved by them, and the events for the
    /// bot, in the caller's transaction. Trades already recorded (a replayed answer) change
    /// nothing.
    public static func recordExecution(_ order: Order, fills: [Fill], ids: EventIdGenerator, traceId: TraceId,
                                       on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [Fill] {
        let now = order.updatedAt
        let update = try OrderUpdateEvent(order: order)
        let envelope = EventEnvelope(payload: update, source: .executor, traceId: traceId, occurredAt: now, ids: ids)
        var fresh: [Fill] = []
        do {
            try await connection.query("""
                UPDATE trading.orders SET exchange_order_id = \(order.exchangeOrderId), status = \(order.status.rawValue),
                       quantity = \(order.quantity.value.description)::numeric,
                       executed_quantity = \(order.executedQuantity.value.description)::numeric,
                       cumulative_quote_quantity = \(order.cumulativeQuoteQuantity.description)::numeric, updated_at = now()
                WHERE client_order_id = \(order.clientOrderId.rawValue)
                """, logger: logger)
            try await connection.query("""
                INSERT INTO trading.order_events (event_id, client_order_id, status, executed_quantity, cumulative_quote_quantity, exchange_time)
                VALUES (\(envelope.eventId.string)::uuid, \(order.clientOrderId.rawValue), \(order.status.rawValue),
                        \(order.executedQuantity.value.description)::numeric, \(order.cumulativeQuoteQuantity.description)::numeric,
                        'epoch'::timestamptz + \(now.milliseconds) * interval '1 millisecond')
                """, logger: logger)
            for fill in fills {
                var stored = false
                for try await _ in try await connection.query("""
                    INSERT INTO trading.trades (symbol, trade_id, client_order_id, exchange_order_id, bot_id, side, price, quantity,
                                                quote_quantity, commission, commission_asset, is_maker, trade_time)
                    VALUES (\(fill.symbol.rawValue), \(fill.tradeId), \(fill.clientOrderId.rawValue), \(fill.exchangeOrderId),
                            \(order.botId.rawValue), \(fill.side.rawValue), \(fill.price.value.description)::numeric,
                            \(fill.quantity.value.description)::numeric, \(fill.quoteQuantity.description)::numeric,
                            \(fill.commission.description)::numeric, \(fill.commissionAsset.rawValue), \(fill.isMaker),
                            'epoch'::timestamptz + \(fill.time.milliseconds) * interval '1 millisecond')
                    ON CONFLICT (symbol, trade_id) DO NOTHING RETURNING 1
                    """, logger: logger) { stored = true }
                if stored { fresh.append(fill) }
            }
        } catch { throw failure(error, "record an execution") }
        if !fresh.isEmpty {
            var book = try await position(of: order.botId, symbol: order.symbol, on: connection, logger: logger)
            for fill in fresh { try book.apply(fill) }
            do {
                try await connection.query("""
                    INSERT INTO trading.positions (bot_id, symbol, quantity, average_entry_price, realized_pnl)
                    VALUES (\(order.botId.rawValue), \(order.symbol.rawValue), \(book.quantity.description)::numeric,
                            \(book.averageEntryPrice.description)::numeric, \(book.realizedProfit.description)::numeric)
                    ON CONFLICT (bot_id, symbol) DO UPDATE SET quantity = EXCLUDED.quantity,
                        average_entry_price = EXCLUDED.average_entry_price, realized_pnl = EXCLUDED.realized_pnl, updated_at = now()
                    """, logger: logger)
            } catch { throw failure(error, "update a position") }
        }
        _ = try await Outbox.enqueue(envelope, orderingKey: "bot:\(order.botId.rawValue)", on: connection, logger: logger)
        for fill in fresh {
            let event = EventEnvelope(payload: FillEvent(fill: fill, botId: order.botId), source: .executor, traceId: traceId,
                                      occurredAt: fill.time, ids: ids)
            do {
                try await connection.query("""
                    INSERT INTO trading.fill_events (event_id, symbol, trade_id) VALUES (\(event.eventId.string)::uuid, \(fill.symbol.rawValue), \(fill.tradeId))
                    """, logger: logger)
            } catch { throw failure(error, "record a fill event") }
            _ = try await Outbox.enqueue(event, orderingKey: "bot:\(order.botId.rawValue)", on: connection, logger: logger)
        }
        return fresh
    }
}
