public import GordonKernel
import GordonPostgres
public import GordonProtocol
public import Logging
public import PostgresNIO

/// The transactional outbox (DESIGN §4): the event is written in the caller's transaction,
/// next to the state change it announces, and the relay publishes it after commit.
public enum Outbox {
    /// Adds `envelope` to the outbox on `connection`, which must be inside the caller's
    /// transaction (`withTransaction`): if the transaction rolls back, the event never existed.
    /// Events with the same `orderingKey` are published in the order they were enqueued.
    public static func enqueue<Payload: EventPayload>(
        _ envelope: EventEnvelope<Payload>, orderingKey: String, on connection: PostgresConnection,
        codec: EventCodec = EventCodec(), logger: Logger
    ) async throws(GordonError) -> Int64 {
        let bytes = try codec.encode(envelope)
        let subject = envelope.subject.string
        let eventId = envelope.eventId.string
        let type = Payload.eventType
        do {
            let rows = try await connection.query("""
                INSERT INTO trading.outbox (subject, event_id, event_type, payload, ordering_key)
                VALUES (\(subject), \(eventId)::uuid, \(type), \(ByteBuffer(bytes: bytes)), \(orderingKey))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { return id }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "outbox enqueue", "type": type])
        }
        throw GordonError(.sqlFailed, "outbox insert returned no id")
    }
}
