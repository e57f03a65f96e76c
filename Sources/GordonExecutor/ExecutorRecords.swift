import GordonBus
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
    /// A sell of an emergency flatten: the one order the halt latch lets through.
    public let isFlatten: Bool
    /// How long ago it was recorded, when read back (zero for a fresh intent).
    public var ageMilliseconds: Int64 = 0

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
        isFlatten = intent.reason.hasPrefix(Self.flattenReasonPrefix)
    }

    static let flattenReasonPrefix = "flatten:"

    init(clientOrderId: ClientOrderId, botId: BotId, symbol: Symbol, side: Side, type: OrderType, timeInForce: TimeInForce?,
         price: Price?, stopPrice: Price?, quantity: Quantity?, quoteOrderQuantity: ExactDecimal?, isFlatten: Bool, ageMilliseconds: Int64) {
        self.isFlatten = isFlatten
        self.ageMilliseconds = ageMilliseconds
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

    /// The position, locked until the caller's transaction ends: fills of two orders of one
    /// bot (the placer's and the user stream's) must not both start from the same quantity.
    static func lockedPosition(of bot: BotId, symbol: Symbol, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> PositionBook {
        do {
            try await connection.query("""
                INSERT INTO trading.positions (bot_id, symbol, quantity, average_entry_price, realized_pnl)
                VALUES (\(bot.rawValue), \(symbol.rawValue), 0, 0, 0) ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.query("""
                SELECT 1 FROM trading.positions WHERE bot_id = \(bot.rawValue) AND symbol = \(symbol.rawValue) FOR UPDATE
                """, logger: logger)
        } catch { throw failure(error, "lock a position") }
        return try await position(of: bot, symbol: symbol, on: connection, logger: logger)
    }

    /// Order statuses in the order an order moves through them; the terminal ones last.
    static let statusProgress = ["PENDING_NEW", "NEW", "PARTIALLY_FILLED", "PENDING_CANCEL", "FILLED", "CANCELED", "EXPIRED",
                                 "EXPIRED_IN_MATCH", "REJECTED"]

    /// The bot that owns an order, or nil when Gordon has no record of it (placed by hand).
    public static func owner(of clientOrderId: String, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> BotId? {
        do {
            for try await (bot,) in try await connection.query(
                "SELECT bot_id FROM trading.orders WHERE client_order_id = \(clientOrderId)", logger: logger).decode((String,).self) {
                return try BotId(bot)
            }
            return nil
        } catch { throw failure(error, "read an order's bot") }
    }

    /// Gordon's records as domain orders: those still open (`ids` nil) or those named. A
    /// quote-sized order not yet answered has no base quantity and is left to the placer.
    public static func orders(_ ids: [ClientOrderId]? = nil, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [Order] {
        let filter: PostgresQuery = ids.map { ids in
            "WHERE client_order_id = ANY(\(ids.map(\.rawValue))) AND quantity > 0"
        } ?? "WHERE status::text IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL') AND quantity > 0"
        var query: PostgresQuery = """
            SELECT client_order_id, exchange_order_id, bot_id, symbol, side, order_type, time_in_force, price::text, stop_price::text,
                   quantity::text, executed_quantity::text, cumulative_quote_quantity::text, status::text,
                   (extract(epoch FROM created_at) * 1000)::int8, (extract(epoch FROM updated_at) * 1000)::int8
            FROM trading.orders
            """
        query.sql += " " + filter.sql
        query.binds = filter.binds
        do {
            var orders: [Order] = []
            for try await row in try await connection.query(query, logger: logger)
                .decode((String, Int64?, String, String, String, String, String?, String?, String?, String, String, String, String, Int64, Int64).self) {
                let (id, exchangeId, bot, symbol, side, type, tif, price, stop, quantity, executed, quote, status, created, updated) = row
                guard let side = Side(rawValue: side), let type = OrderType(rawValue: type), let status = OrderStatus(rawValue: status) else {
                    throw GordonError(.internalInvariant, "order \(id) has an unknown side, type or status")
                }
                orders.append(try Order(
                    clientOrderId: try ClientOrderId(id), exchangeOrderId: exchangeId, botId: try BotId(bot), symbol: try Symbol(symbol),
                    side: side, type: type, timeInForce: tif.flatMap(TimeInForce.init(rawValue:)),
                    price: try price.map { text throws(GordonError) in try Price(parsing: text) },
                    stopPrice: try stop.map { text throws(GordonError) in try Price(parsing: text) },
                    quantity: try Quantity(parsing: quantity), executedQuantity: try Quantity(parsing: executed),
                    cumulativeQuoteQuantity: try ExactDecimal(parsing: quote), status: status,
                    createdAt: Timestamp(milliseconds: created), updatedAt: Timestamp(milliseconds: updated)))
            }
            return orders
        } catch { throw failure(error, "read orders") }
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
                SELECT o.client_order_id, o.bot_id, o.symbol, o.side, o.order_type, o.time_in_force, o.price::text, o.stop_price::text,
                       o.quantity::text, o.quote_order_quantity::text, coalesce(i.reason LIKE 'flatten:%', false),
                       (extract(epoch FROM now() - o.created_at) * 1000)::int8
                FROM trading.orders o LEFT JOIN trading.v_order_intents i ON i.intent_id = o.client_order_id
                WHERE o.status = 'PENDING_NEW' AND o.exchange_order_id IS NULL ORDER BY o.created_at, o.client_order_id
                """, logger: logger).decode((String, String, String, String, String, String?, String?, String?, String?, String?, Bool, Int64).self) {
                let (id, bot, symbol, side, type, tif, price, stop, quantity, quote, isFlatten, age) = row
                orders.append(try recordedOrder((id, bot, symbol, side, type, tif, price, stop, quantity, quote), isFlatten: isFlatten, age: age))
            }
            return orders
        } catch { throw failure(error, "read pending orders") }
    }

    /// A refusal, by Gordon or the exchange: the order row (created or updated) REJECTED with
    /// its reason, its history row and an `OrderUpdateEvent` for the bot.
    ///
    /// The update needs a base quantity; a quote-sized order has none, so `estimatedQuantity`
    /// (what the checks saw) stands in, or one satoshi when there is no estimate.
    ///
    /// With `ifAbsent`, an order already recorded is left as it is and nothing is written
    /// (false): an intent found unhandled may be on its way through the intake right now.
    public static func reject(_ order: RecordedOrder, reason: String, estimatedQuantity: Quantity? = nil, at time: Timestamp,
                              ids: EventIdGenerator, traceId: TraceId, ifAbsent: Bool = false,
                              on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> Bool {
        let reason = String(reason.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init).prefix(200))
        let quantity: Quantity
        if let known = order.quantity ?? estimatedQuantity {
            quantity = known
        } else {
            quantity = try Quantity(ExactDecimal(significand: 1, scale: 8))
        }
        let update = try OrderUpdateEvent(clientOrderId: order.clientOrderId, botId: order.botId, symbol: order.symbol, side: order.side,
                                          orderType: order.type, status: .rejected, price: order.price, quantity: quantity,
                                          rejectReason: reason, updatedAt: time)
        let envelope = EventEnvelope(payload: update, source: .executor, traceId: traceId, occurredAt: time, ids: ids)
        var written = false
        do {
            for try await _ in try await connection.query("""
                INSERT INTO trading.orders (client_order_id, bot_id, symbol, side, order_type, time_in_force, price, stop_price,
                                            quantity, quote_order_quantity, status, reject_reason)
                VALUES (\(order.clientOrderId.rawValue), \(order.botId.rawValue), \(order.symbol.rawValue), \(order.side.rawValue),
                        \(order.type.rawValue), \(order.timeInForce?.rawValue), \(order.price?.value.description)::numeric,
                        \(order.stopPrice?.value.description)::numeric, \(order.quantity?.value.description ?? "0")::numeric,
                        \(order.quoteOrderQuantity?.description)::numeric, 'REJECTED', \(reason))
                ON CONFLICT (client_order_id) DO UPDATE SET status = 'REJECTED', reject_reason = EXCLUDED.reject_reason, updated_at = now()
                WHERE NOT \(ifAbsent)
                RETURNING 1
                """, logger: logger) { written = true }
        } catch { throw failure(error, "record a rejection") }
        guard written else { return false }
        do {
            try await connection.query("""
                INSERT INTO trading.order_events (event_id, client_order_id, status, executed_quantity, cumulative_quote_quantity, reject_reason)
                VALUES (\(envelope.eventId.string)::uuid, \(order.clientOrderId.rawValue), 'REJECTED', 0, 0, \(reason))
                """, logger: logger)
        } catch { throw failure(error, "record a rejection") }
        _ = try await Outbox.enqueue(envelope, orderingKey: "bot:\(order.botId.rawValue)", on: connection, logger: logger)
        return true
    }

    /// Intents the intents consumer (`consumer`) dead-lettered that never became an order:
    /// their bots wait for a verdict that no redelivery will bring. Oldest first.
    public static func deadLetteredIntents(consumer: String, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [RecordedOrder] {
        do {
            var intents: [RecordedOrder] = []
            for try await row in try await connection.query("""
                SELECT i.intent_id, i.bot_id, i.symbol, i.side, i.order_type, i.time_in_force, i.price::text, i.stop_price::text,
                       i.quantity::text, i.quote_order_quantity::text, i.reason LIKE 'flatten:%',
                       (extract(epoch FROM now() - i.created_at) * 1000)::int8
                FROM trading.v_order_intents i
                WHERE EXISTS (SELECT 1 FROM trading.dead_letters d WHERE d.event_id = i.event_id AND d.consumer = \(consumer))
                  AND NOT EXISTS (SELECT 1 FROM trading.orders o WHERE o.client_order_id = i.intent_id)
                ORDER BY i.created_at, i.intent_id LIMIT 100
                """, logger: logger).decode((String, String, String, String, String, String?, String?, String?, String?, String?, Bool, Int64).self) {
                let (id, bot, symbol, side, type, tif, price, stop, quantity, quote, isFlatten, age) = row
                intents.append(try recordedOrder((id, bot, symbol, side, type, tif, price, stop, quantity, quote), isFlatten: isFlatten, age: age))
            }
            return intents
        } catch { throw failure(error, "read dead-lettered intents") }
    }

    private static func recordedOrder(
        _ row: (String, String, String, String, String, String?, String?, String?, String?, String?), isFlatten: Bool, age: Int64
    ) throws(GordonError) -> RecordedOrder {
        let (id, bot, symbol, side, type, tif, price, stop, quantity, quote) = row
        guard let side = Side(rawValue: side), let type = OrderType(rawValue: type) else {
            throw GordonError(.internalInvariant, "order \(id) has an unknown side or type")
        }
        let base = try quantity.map { text throws(GordonError) in try ExactDecimal(parsing: text) } ?? .zero
        return RecordedOrder(
            clientOrderId: try ClientOrderId(id), botId: try BotId(bot), symbol: try Symbol(symbol), side: side, type: type,
            timeInForce: tif.flatMap(TimeInForce.init(rawValue:)), price: try price.map { text throws(GordonError) in try Price(parsing: text) },
            stopPrice: try stop.map { text throws(GordonError) in try Price(parsing: text) },
            quantity: base.isPositive ? try Quantity(base) : nil,
            quoteOrderQuantity: try quote.map { text throws(GordonError) in try ExactDecimal(parsing: text) }, isFlatten: isFlatten,
            ageMilliseconds: age)
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
        var moved = false
        do {
            // Only forward: the placement answer, the user stream and reconciliation all report
            // the same orders, in any order; an answer behind the record (a NEW arriving after
            // the FILLED) changes nothing. The row lock orders concurrent writers.
            for try await _ in try await connection.query("""
                UPDATE trading.orders SET exchange_order_id = coalesce(exchange_order_id, \(order.exchangeOrderId)), status = \(order.status.rawValue),
                       quantity = \(order.quantity.value.description)::numeric,
                       executed_quantity = \(order.executedQuantity.value.description)::numeric,
                       cumulative_quote_quantity = \(order.cumulativeQuoteQuantity.description)::numeric, updated_at = now()
                WHERE client_order_id = \(order.clientOrderId.rawValue)
                  AND status::text IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL')
                  AND (executed_quantity < \(order.executedQuantity.value.description)::numeric
                       OR (executed_quantity = \(order.executedQuantity.value.description)::numeric
                           AND array_position(\(Self.statusProgress), status::text) < array_position(\(Self.statusProgress), \(order.status.rawValue))))
                RETURNING 1
                """, logger: logger) { moved = true }
            if moved {
                try await connection.query("""
                    INSERT INTO trading.order_events (event_id, client_order_id, status, executed_quantity, cumulative_quote_quantity, exchange_time)
                    VALUES (\(envelope.eventId.string)::uuid, \(order.clientOrderId.rawValue), \(order.status.rawValue),
                            \(order.executedQuantity.value.description)::numeric, \(order.cumulativeQuoteQuantity.description)::numeric,
                            'epoch'::timestamptz + \(now.milliseconds) * interval '1 millisecond')
                    """, logger: logger)
            }
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
            var book = try await lockedPosition(of: order.botId, symbol: order.symbol, on: connection, logger: logger)
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
        if moved {
            _ = try await Outbox.enqueue(envelope, orderingKey: "bot:\(order.botId.rawValue)", on: connection, logger: logger)
        }
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
