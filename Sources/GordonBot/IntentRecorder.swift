public import GordonBus
public import GordonKernel
import GordonPostgres
public import GordonProtocol
public import Logging
public import PostgresNIO

/// Writes a bot's order intent the one way it may be written: inside the transaction that
/// handles the kline (so the kline's event id, recorded by `EventConsumer` in the same
/// transaction, marks it handled), as a row of `trading.order_intents` and its
/// `OrderIntentEvent` in the outbox, fenced by the lease.
///
/// The fence: the lease row is read `FOR SHARE` first and must name this acquisition
/// (`HeldLease.token`) and not have expired. A standby taking over updates that row, so it
/// waits for this transaction, and an instance that lost or released the lease writes nothing
/// (`botLeaseLost`; the transaction rolls back, the kline is handled again by whoever holds
/// the lease).
public enum IntentRecorder {
    public static func record(_ envelope: EventEnvelope<OrderIntentEvent>, lease token: String, on connection: PostgresConnection,
                              logger: Logger) async throws(GordonError) {
        let intent = envelope.payload
        var fence = PostgresBindings()
        fence.append(intent.botId.rawValue)
        fence.append(token)
        do {
            var holds = false
            for try await _ in try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT 1 FROM trading.bot_leases WHERE bot_id = $1 AND instance_id = $2 AND expires_at > now() FOR SHARE
                """, binds: fence), logger: logger) {
                holds = true
            }
            guard holds else {
                throw GordonError(.botLeaseLost, "this instance no longer holds the bot's lease; the intent was not written",
                                  context: ["bot": intent.botId.rawValue, "lease": token, "intent": intent.intentId.rawValue])
            }
            var row = PostgresBindings()
            row.append(intent.intentId.rawValue)
            row.append(envelope.eventId.string)
            row.append(envelope.traceId.description)
            row.append(intent.botId.rawValue)
            row.append(intent.symbol.rawValue)
            row.append(intent.side.rawValue)
            row.append(intent.orderType.rawValue)
            row.append(intent.timeInForce?.rawValue)
            row.append(intent.price?.value.description)
            row.append(intent.stopPrice?.value.description)
            row.append(intent.quantity?.value.description)
            row.append(intent.quoteOrderQuantity?.value.description)
            row.append(intent.reason)
            row.append(intent.createdAt.milliseconds)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO trading.order_intents (intent_id, event_id, trace_id, bot_id, symbol, side, order_type, time_in_force,
                                                   price, stop_price, quantity, quote_order_quantity, reason, created_at)
                VALUES ($1, $2::uuid, $3, $4, $5, $6, $7, $8, $9::numeric, $10::numeric, $11::numeric, $12::numeric, $13,
                        'epoch'::timestamptz + $14 * interval '1 millisecond')
                """, binds: row), logger: logger)
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "record order intent", "intent": intent.intentId.rawValue])
        }
        // One ordering key per bot: its intents reach the executor in the order it made them.
        _ = try await Outbox.enqueue(envelope, orderingKey: "bot:\(intent.botId.rawValue)", on: connection, logger: logger)
    }
}
