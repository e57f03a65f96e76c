public import GordonDomain
public import GordonKernel

/// What every event carries: its wire `type`, and the subject it is published on.
public protocol EventPayload: Codable, Sendable, Equatable {
    /// The envelope's `type` for this payload (`"kline"`, `"order_intent"`, …). Part of the
    /// wire format: never changed once released.
    static var eventType: String { get }
    /// The subject this event is published on, derived from its own fields.
    var subject: Subject { get }
}

/// Version and size limits of the wire format.
public enum EventSchema {
    /// The envelope version this build writes and the highest it reads. Additive changes
    /// (a new optional field, a new event type) keep it; anything else raises it.
    public static let currentVersion = 1
    /// The largest encoded event accepted, so a hostile message cannot exhaust memory.
    public static let maxEventBytes = 1 << 20
}

/// One event as it travels: metadata and a typed payload.
///
/// Wire form (JSON object, snake_case keys): `schema_version` (integer), `event_id` (UUIDv7
/// string), `trace_id` (32 hex digits), `source` (service name), `occurred_at` (integer ms
/// UTC), `type` (the payload's `eventType`), `payload` (object).
public struct EventEnvelope<Payload: EventPayload>: Sendable, Equatable {
    public let schemaVersion: Int
    public let eventId: EventId
    public let traceId: TraceId
    public let source: ServiceName
    public let occurredAt: Timestamp
    public let payload: Payload

    /// A new event at the current schema version.
    public init(eventId: EventId, traceId: TraceId, source: ServiceName, occurredAt: Timestamp, payload: Payload) {
        self.init(schemaVersion: EventSchema.currentVersion, eventId: eventId, traceId: traceId, source: source,
                  occurredAt: occurredAt, payload: payload)
    }

    init(schemaVersion: Int, eventId: EventId, traceId: TraceId, source: ServiceName, occurredAt: Timestamp, payload: Payload) {
        self.schemaVersion = schemaVersion
        self.eventId = eventId
        self.traceId = traceId
        self.source = source
        self.occurredAt = occurredAt
        self.payload = payload
    }

    /// A new event whose id comes from `generator`.
    public init(payload: Payload, source: ServiceName, traceId: TraceId, occurredAt: Timestamp, ids generator: EventIdGenerator) {
        self.init(eventId: generator.next(), traceId: traceId, source: source, occurredAt: occurredAt, payload: payload)
    }

    /// The wire `type`, which is always the payload's.
    public var type: String { Payload.eventType }
    public var subject: Subject { payload.subject }
}

extension EventEnvelope: Codable {
    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case eventId = "event_id"
        case traceId = "trace_id"
        case source
        case occurredAt = "occurred_at"
        case type
        case payload
    }

    /// Reads the full envelope. The codec has already checked `schema_version` and `type`
    /// before getting here; they are checked again so a direct `JSONDecoder` user gets the
    /// same guarantees.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let schemaVersion = try container.decodeInteger(Int.self, forKey: .schemaVersion)
        guard (1...EventSchema.currentVersion).contains(schemaVersion) else {
            throw DecodingError.dataCorruptedError(forKey: .schemaVersion, in: container,
                                                   debugDescription: "unsupported schema_version \(schemaVersion)")
        }
        let type = try container.decode(String.self, forKey: .type)
        guard type == Payload.eventType else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container,
                                                   debugDescription: "expected type \(Payload.eventType)")
        }
        self.init(
            schemaVersion: schemaVersion,
            eventId: try container.decode(EventId.self, forKey: .eventId),
            traceId: try container.decode(TraceId.self, forKey: .traceId),
            source: try container.decode(ServiceName.self, forKey: .source),
            occurredAt: try container.decodeTimestamp(forKey: .occurredAt),
            payload: try container.decode(Payload.self, forKey: .payload))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(traceId, forKey: .traceId)
        try container.encode(source, forKey: .source)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(type, forKey: .type)
        try container.encode(payload, forKey: .payload)
    }
}
