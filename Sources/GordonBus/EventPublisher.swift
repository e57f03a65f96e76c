public import GordonKernel
public import GordonNATS
public import GordonProtocol

/// Publishes Gordon events. The stream acknowledges each one; a publish that returns has
/// been stored (or recognised as a duplicate of a stored one).
public protocol EventPublisher: Sendable {
    func publish<Payload: EventPayload>(_ envelope: EventEnvelope<Payload>) async throws(GordonError) -> PubAck
}

/// Direct JetStream publishing, for events whose loss is acceptable to retry from the
/// source (market data). State changes go through the outbox instead.
public struct JetStreamEventPublisher: EventPublisher {
    public let jetStream: JetStream
    public let codec: EventCodec

    public init(jetStream: JetStream, codec: EventCodec = EventCodec()) {
        self.jetStream = jetStream
        self.codec = codec
    }

    /// `Nats-Msg-Id` is the event id, so retrying a publish whose ack was lost stores it once.
    public func publish<Payload: EventPayload>(_ envelope: EventEnvelope<Payload>) async throws(GordonError) -> PubAck {
        let bytes = try codec.encode(envelope)
        return try await jetStream.publish(bytes, to: envelope.subject.string, messageId: envelope.eventId.string,
                                           expectedStream: GordonStream.name)
    }
}
