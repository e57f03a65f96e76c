public import GordonDomain
public import GordonKernel

/// An event of any known type, for consumers of several subjects at once.
public enum AnyEvent: Sendable, Equatable {
    case kline(EventEnvelope<KlineEvent>)
    case metric(EventEnvelope<MetricEvent>)
    case orderIntent(EventEnvelope<OrderIntentEvent>)
    case orderUpdate(EventEnvelope<OrderUpdateEvent>)
    case fill(EventEnvelope<FillEvent>)
    case riskCommand(EventEnvelope<RiskCommandEvent>)
    case breaker(EventEnvelope<BreakerEvent>)
    case botLifecycle(EventEnvelope<BotLifecycleEvent>)
    case reconciliation(EventEnvelope<ReconciliationEvent>)

    public var schemaVersion: Int { header.schemaVersion }
    public var eventId: EventId { header.eventId }
    public var traceId: TraceId { header.traceId }
    public var source: ServiceName { header.source }
    public var occurredAt: Timestamp { header.occurredAt }
    public var type: String { header.type }
    public var subject: Subject { header.subject }

    private var header: (schemaVersion: Int, eventId: EventId, traceId: TraceId, source: ServiceName, occurredAt: Timestamp, type: String, subject: Subject) {
        func fields<P>(_ envelope: EventEnvelope<P>) -> (Int, EventId, TraceId, ServiceName, Timestamp, String, Subject) {
            (envelope.schemaVersion, envelope.eventId, envelope.traceId, envelope.source, envelope.occurredAt, envelope.type, envelope.subject)
        }
        switch self {
        case .kline(let envelope): return fields(envelope)
        case .metric(let envelope): return fields(envelope)
        case .orderIntent(let envelope): return fields(envelope)
        case .orderUpdate(let envelope): return fields(envelope)
        case .fill(let envelope): return fields(envelope)
        case .riskCommand(let envelope): return fields(envelope)
        case .breaker(let envelope): return fields(envelope)
        case .botLifecycle(let envelope): return fields(envelope)
        case .reconciliation(let envelope): return fields(envelope)
        }
    }
}
