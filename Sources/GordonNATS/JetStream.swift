#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel
public import NIOCore

/// JetStream over a `NATSClient`: the `$JS.API` JSON API, publish with ack, pull consumers.
public struct JetStream: Sendable {
    public let client: NATSClient
    public let apiPrefix: String
    public let timeout: TimeAmount
    /// Most async publishes awaiting their ack; `publishAsync` waits past it.
    public let maxPendingAsync: Int

    public init(client: NATSClient, apiPrefix: String = "$JS.API", timeout: TimeAmount = .seconds(5), maxPendingAsync: Int = 4000) {
        precondition(maxPendingAsync > 0)
        self.client = client
        self.apiPrefix = apiPrefix
        self.timeout = timeout
        self.maxPendingAsync = maxPendingAsync
    }

    /// Returns once every `publishAsync` made so far has been acknowledged or has failed.
    public func publishAsyncComplete() async {
        await client.waitForAsyncPublishes()
    }

    // MARK: API

    /// Sends a request to `$JS.API.<suffix>` and decodes the answer, turning the server's
    /// `{"error":…}` into a typed error that keeps its codes.
    func api<Response: Decodable>(_ suffix: String, body: [UInt8], as: Response.Type) async throws(GordonError) -> Response {
        let subject = "\(apiPrefix).\(suffix)"
        let reply: NATSMessage
        do {
            reply = try await client.request(body, to: subject, timeout: timeout, literalWildcards: true)
        } catch where error.code == .natsNoResponders {
            throw GordonError(.jetStreamNotFound, "JetStream is not enabled or not reachable", context: ["subject": subject])
        }
        let bytes = Data(reply.payload.readableBytesView)
        if let failure = try? JSONDecoder().decode(APIErrorBody.self, from: bytes), let detail = failure.error {
            throw JetStream.error(detail, subject: subject)
        }
        do {
            return try JSONDecoder().decode(Response.self, from: bytes)
        } catch {
            throw GordonError(.jetStreamInvalidResponse, "JetStream answered \(subject) with JSON this client cannot read",
                              context: ["subject": subject], underlying: error)
        }
    }

    static func error(_ detail: APIErrorBody.Detail, subject: String) -> GordonError {
        var context = ["subject": subject, "status": "\(detail.code)"]
        if let errCode = detail.errCode { context["err_code"] = "\(errCode)" }
        let text = detail.description ?? "error \(detail.code)"
        let code: ErrorCode = detail.code == 404 ? .jetStreamNotFound : .jetStreamAPIError
        let kind: ErrorKind? = switch detail.code {
        case 400: .invalidInput
        case 404: .notFound
        case 409: .conflict
        case 503: .unavailable
        default: nil
        }
        return GordonError(code, "JetStream: \(text)", kind: kind, context: context)
    }

    func encode(_ value: some Encodable) throws(GordonError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch {
            throw GordonError(.internalInvariant, "cannot encode a JetStream request", underlying: error)
        }
    }

    public func createStream(_ config: StreamConfig) async throws(GordonError) -> StreamInfo {
        try await api("STREAM.CREATE.\(config.name)", body: try encode(config), as: StreamInfo.self)
    }

    public func updateStream(_ config: StreamConfig) async throws(GordonError) -> StreamInfo {
        try await api("STREAM.UPDATE.\(config.name)", body: try encode(config), as: StreamInfo.self)
    }

    public func streamInfo(_ name: String) async throws(GordonError) -> StreamInfo {
        try await api("STREAM.INFO.\(name)", body: [], as: StreamInfo.self)
    }

    public func deleteStream(_ name: String) async throws(GordonError) {
        _ = try await api("STREAM.DELETE.\(name)", body: [], as: SuccessBody.self)
    }

    struct SuccessBody: Decodable { var success: Bool? }

    struct CreateConsumerRequest: Encodable {
        var streamName: String
        var config: ConsumerConfig
        enum CodingKeys: String, CodingKey { case streamName = "stream_name", config }
    }

    /// Creates a consumer, or updates the durable one of the same name. A durable consumer
    /// with one filter uses the subject that embeds the filter
    /// (`CONSUMER.CREATE.<stream>.<name>.<filter>`), so server permissions can pin both.
    public func createConsumer(stream: String, _ config: ConsumerConfig) async throws(GordonError) -> ConsumerInfo {
        let suffix: String
        if let durable = config.durableName, let filter = config.filterSubject {
            suffix = "CONSUMER.CREATE.\(stream).\(durable).\(filter)"
        } else if let durable = config.durableName {
            suffix = "CONSUMER.DURABLE.CREATE.\(stream).\(durable)"
        } else {
            suffix = "CONSUMER.CREATE.\(stream)"
        }
        return try await api(suffix, body: try encode(CreateConsumerRequest(streamName: stream, config: config)), as: ConsumerInfo.self)
    }

    public func consumerInfo(stream: String, name: String) async throws(GordonError) -> ConsumerInfo {
        try await api("CONSUMER.INFO.\(stream).\(name)", body: [], as: ConsumerInfo.self)
    }

    public func deleteConsumer(stream: String, name: String) async throws(GordonError) {
        _ = try await api("CONSUMER.DELETE.\(stream).\(name)", body: [], as: SuccessBody.self)
    }

    // MARK: Publish

    /// Publishes and waits for the stream's acknowledgement.
    public func publish(_ payload: some Collection<UInt8>, to subject: String, messageId: String? = nil,
                        expectedStream: String? = nil, headers: NATSHeaders? = nil) async throws(GordonError) -> PubAck {
        let future = try await publishAsync(payload, to: subject, messageId: messageId, expectedStream: expectedStream, headers: headers)
        do {
            return try await future.get()
        } catch {
            throw (error as? GordonError) ?? GordonError(.jetStreamInvalidResponse, "publish failed", underlying: error)
        }
    }

    /// Queues a publish and returns its pending acknowledgement, so a caller can have many
    /// in flight and await them in order (the outbox relay does). With
    /// `bufferWhileDisconnected: false` a publish while the connection is down fails at once
    /// instead of waiting in the reconnect buffer, so a caller that retries from its first
    /// unacknowledged message never has a later one stored before it.
    public func publishAsync(_ payload: some Collection<UInt8>, to subject: String, messageId: String? = nil,
                             expectedStream: String? = nil, headers: NATSHeaders? = nil,
                             bufferWhileDisconnected: Bool = true) async throws(GordonError) -> EventLoopFuture<PubAck> {
        var allHeaders = headers ?? NATSHeaders()
        if let messageId { allHeaders[NATSHeaders.messageId] = messageId }
        if let expectedStream { allHeaders[NATSHeaders.expectedStream] = expectedStream }
        try NATSCommands.validatePublishSubject(subject)
        let headerBytes = allHeaders.isEmpty ? nil : try allHeaders.encoded()
        let promise = client.replyLoop().makePromise(of: PubAck.self)
        let client = self.client
        let limit = maxPendingAsync
        await client.acquireAsyncSlot(limit: limit)
        // The PubAck is parsed and the promise completed where the reply arrives, on the
        // connection's loop: no future chaining, no extra thread hops per message.
        try await client.sendRequest(payload, to: subject, headerBytes: headerBytes, timeout: timeout,
                                     bufferWhileDisconnected: bufferWhileDisconnected) { result in
            defer { client.releaseAsyncSlot(limit: limit) }
            switch result {
            case .success(let message):
                do { promise.succeed(try JetStream.pubAck(from: message, subject: subject)) } catch { promise.fail(error) }
            case .failure(let error) where error.code == .natsNoResponders:
                promise.fail(GordonError(.jetStreamNotFound, "no JetStream stream captures \(subject)", context: ["subject": subject]))
            case .failure(let error):
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    static func pubAck(from message: NATSMessage, subject: String) throws(GordonError) -> PubAck {
        if let fast = PubAck(fastParsing: message.payload.readableBytesView) { return fast }
        let bytes = Data(message.payload.readableBytesView)
        if let failure = try? JSONDecoder().decode(APIErrorBody.self, from: bytes), let detail = failure.error {
            var error = JetStream.error(detail, subject: subject)
            error.code = .jetStreamPublishRejected
            error.kind = .conflict
            throw error
        }
        do {
            return try JSONDecoder().decode(PubAck.self, from: bytes)
        } catch {
            throw GordonError(.jetStreamInvalidResponse, "publish to \(subject) got a reply that is not a PubAck",
                              context: ["subject": subject])
        }
    }

    // MARK: Consumers

    public func pullConsumer(stream: String, name: String) -> PullConsumer {
        PullConsumer(jetStream: self, stream: stream, name: name)
    }
}

/// What JetStream says about a delivered message, read from its reply subject
/// (`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>`).
public struct JetStreamMetadata: Sendable, Hashable {
    public var stream: String
    public var consumer: String
    /// 1 on first delivery; more means a redelivery.
    public var deliveries: Int
    public var streamSequence: UInt64
    public var consumerSequence: UInt64
    public var timestampNanoseconds: Int64
    public var pending: UInt64

    public init(replySubject: String) throws(GordonError) {
        let tokens = replySubject.split(separator: ".", omittingEmptySubsequences: false)
        let offset: Int
        switch tokens.count {
        case 9: offset = 2  // $JS.ACK.<stream>…
        case 11, 12: offset = 4  // $JS.ACK.<domain>.<account hash>.<stream>…[.<token>]
        default: throw GordonError(.jetStreamInvalidResponse, "not a JetStream ack subject", context: ["subject": String(replySubject.prefix(200))])
        }
        guard tokens[0] == "$JS", tokens[1] == "ACK",
              let deliveries = Int(tokens[offset + 2]), let streamSequence = UInt64(tokens[offset + 3]),
              let consumerSequence = UInt64(tokens[offset + 4]), let timestamp = Int64(tokens[offset + 5]),
              let pending = UInt64(tokens[offset + 6]) else {
            throw GordonError(.jetStreamInvalidResponse, "not a JetStream ack subject", context: ["subject": String(replySubject.prefix(200))])
        }
        stream = String(tokens[offset])
        consumer = String(tokens[offset + 1])
        self.deliveries = deliveries
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestampNanoseconds = timestamp
        self.pending = pending
    }
}

/// A message delivered by a pull consumer, with its acknowledgement verbs.
public struct JetStreamMessage: Sendable {
    public let message: NATSMessage
    public let metadata: JetStreamMetadata
    let client: NATSClient

    public var subject: String { message.subject }
    public var payload: ByteBuffer { message.payload }
    public var headers: NATSHeaders? { message.headers }

    /// Done with it: never redeliver. Waits for the server to confirm, so a crash after
    /// `ack` returns cannot bring the message back.
    public func ack() async throws(GordonError) {
        try await acknowledge("+ACK", confirm: true)
    }

    /// Acknowledge without waiting for the server's confirmation (faster, may be redelivered).
    public func ackNoWait() async throws(GordonError) {
        try await acknowledge("+ACK", confirm: false)
    }

    /// Not now: redeliver, after `delay` if given.
    public func nak(delay: Duration? = nil) async throws(GordonError) {
        if let delay {
            let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
            try await acknowledge("-NAK {\"delay\":\(nanoseconds)}", confirm: false)
        } else {
            try await acknowledge("-NAK", confirm: false)
        }
    }

    /// Never redeliver, and do not count it as processed (poison messages).
    public func term() async throws(GordonError) {
        try await acknowledge("+TERM", confirm: true)
    }

    /// Still working on it: restart the ack-wait timer.
    public func inProgress() async throws(GordonError) {
        try await acknowledge("+WPI", confirm: false)
    }

    private func acknowledge(_ body: String, confirm: Bool) async throws(GordonError) {
        guard let reply = message.replyTo else {
            throw GordonError(.jetStreamInvalidResponse, "message has no ack subject", context: ["subject": message.subject])
        }
        if confirm {
            _ = try await client.request(Array(body.utf8), to: reply)
        } else {
            try await client.publish(Array(body.utf8), to: reply)
        }
    }
}
