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
    ///
    /// Events with the same `orderingKey` reach the stream in the order their transactions
    /// commit. The relay publishes in id order, but ids are drawn at insert time, so two
    /// transactions could otherwise commit in the opposite order of their ids. The insert
    /// therefore first takes a transaction-scoped advisory lock on (producer, key): a second
    /// transaction with the same key waits until the first has committed or rolled back, and
    /// only then draws its id. Different keys never wait on each other (a hash collision only
    /// serialises them), and across keys no order is promised.
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
                SELECT \(subject), \(eventId)::uuid, \(type), \(ByteBuffer(bytes: bytes)), \(orderingKey)
                FROM pg_advisory_xact_lock(\(orderingLockSpace), hashtext(current_user || ':' || \(orderingKey)))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { return id }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "outbox enqueue", "type": type])
        }
        throw GordonError(.sqlFailed, "outbox insert returned no id")
    }

    /// The first key of the two-key advisory locks that order enqueues ("OB"); the relay's
    /// lease uses the one-key form, a separate key space.
    static let orderingLockSpace: Int32 = 0x4F42
}
