public import GordonKernel
import NIOConcurrencyHelpers
import NIOCore

/// A durable pull consumer: the reader asks for messages when it is ready for them, which
/// is the back-pressure a service needs (nothing piles up in its memory).
public struct PullConsumer: Sendable {
    public let jetStream: JetStream
    public let stream: String
    public let name: String

    /// Up to `batch` messages, waiting at most `expires` for the first ones. With
    /// `idleHeartbeat`, the server sends heartbeats while it has nothing, and a fetch that
    /// hears nothing for two intervals ends early with `natsTimeout` (a dead connection is
    /// noticed in seconds rather than at `expires`).
    ///
    /// With `noWait`, the server answers at once with what it has (possibly nothing) instead
    /// of holding the request open until `batch` messages arrive.
    public func fetch(batch: Int, expires: Duration = .seconds(5), idleHeartbeat: Duration? = nil,
                      noWait: Bool = false) async throws(GordonError) -> [JetStreamMessage] {
        precondition(batch > 0, "batch must be positive")
        let client = jetStream.client
        let inbox = client.newInbox()
        let subscription = try await client.subscribe(to: inbox, pendingLimit: batch + 64)
        var request = "{\"batch\":\(batch)"
        if noWait {
            request += ",\"no_wait\":true"
        } else {
            request += ",\"expires\":\(expires.nanoseconds)"
        }
        if let idleHeartbeat { request += ",\"idle_heartbeat\":\(idleHeartbeat.nanoseconds)" }
        request += "}"
        do {
            try await client.publish(Array(request.utf8), to: "\(jetStream.apiPrefix).CONSUMER.MSG.NEXT.\(stream).\(name)", replyTo: inbox)
        } catch {
            try? await subscription.unsubscribe()
            throw error
        }
        let watch = NIOLockedValueBox(FetchWatch(lastActivity: .now))
        let outcome: Result<[JetStreamMessage], GordonError> = await withTaskGroup(of: Result<[JetStreamMessage], GordonError>?.self) { group in
            group.addTask {
                do {
                    return .success(try await collect(subscription, batch: batch, watch: watch, client: client))
                } catch let error as GordonError {
                    return .failure(error)
                } catch {
                    return .failure(GordonError(.natsConnectionClosed, "fetch interrupted", underlying: error))
                }
            }
            group.addTask {
                // Ends the fetch when the server has been quiet for a second past the request's
                // expiry (it ends every request itself, with a status, unless the connection is
                // gone), or earlier when heartbeats stop. Quiet, not a fixed deadline: under
                // load the last messages of a batch can arrive after `expires`, and a fetch cut
                // off then would lose them (the server counts them delivered).
                let expiry = ContinuousClock.now + expires
                let grace = Duration.seconds(1)
                func deadline() -> ContinuousClock.Instant { max(expiry, watch.withLockedValue { $0.lastActivity }) + grace }
                let step = idleHeartbeat ?? .milliseconds(250)
                while ContinuousClock.now < deadline() {
                    try? await Task.sleep(for: min(step, max(deadline() - ContinuousClock.now, .milliseconds(1))))
                    if Task.isCancelled { return nil }
                    if let idleHeartbeat, ContinuousClock.now - watch.withLockedValue({ $0.lastActivity }) > idleHeartbeat * 2 {
                        watch.withLockedValue { $0.heartbeatMissed = true }
                        break
                    }
                }
                try? await subscription.unsubscribe()
                return nil
            }
            var result: Result<[JetStreamMessage], GordonError> = .success([])
            for await item in group {
                if let item {
                    result = item
                    group.cancelAll()
                }
            }
            return result
        }
        try? await subscription.unsubscribe()
        let messages = try outcome.get()
        if messages.isEmpty, watch.withLockedValue({ $0.heartbeatMissed }) {
            throw GordonError(.natsTimeout, "JetStream fetch missed its idle heartbeats", context: ["consumer": name])
        }
        return messages
    }

    /// What is ready, up to `batch`, at once; when nothing is, the first message to arrive
    /// within `expires` (none if none does). A batched reader that still hears each event as
    /// it is published: a plain fetch of `batch` waits until `batch` have arrived or `expires`
    /// has passed, however long ago the first one came.
    public func next(batch: Int, expires: Duration = .seconds(5)) async throws(GordonError) -> [JetStreamMessage] {
        guard batch > 1 else { return try await fetch(batch: 1, expires: expires) }
        let ready = try await fetch(batch: batch, expires: expires, noWait: true)
        guard ready.isEmpty else { return ready }
        return try await fetch(batch: 1, expires: expires)
    }

    struct FetchWatch {
        var lastActivity: ContinuousClock.Instant
        var heartbeatMissed = false
    }

    private func collect(_ subscription: NATSSubscription, batch: Int, watch: NIOLockedValueBox<FetchWatch>,
                         client: NATSClient) async throws -> [JetStreamMessage] {
        var messages: [JetStreamMessage] = []
        for try await message in subscription {
            watch.withLockedValue { $0.lastActivity = .now }
            if let status = message.status {
                switch status {
                case 100:
                    continue  // idle heartbeat (or flow control): the server is alive
                case 404, 408:
                    return messages  // nothing (more) to deliver before the request expired
                case 409:
                    let description = message.headers?.statusDescription ?? ""
                    if description.lowercased().contains("consumer deleted") {
                        throw GordonError(.jetStreamNotFound, "JetStream consumer was deleted", context: ["consumer": name])
                    }
                    return messages
                default:
                    return messages
                }
            }
            guard let reply = message.replyTo else { continue }
            messages.append(JetStreamMessage(message: message, metadata: try JetStreamMetadata(replySubject: reply), client: client))
            if messages.count == batch { return messages }
        }
        return messages
    }

    public func info() async throws(GordonError) -> ConsumerInfo {
        try await jetStream.consumerInfo(stream: stream, name: name)
    }
}

/// Reads a stream's messages strictly in stream order, once each, through an ephemeral
/// consumer it recreates from the last seen sequence whenever it sees a gap or loses the
/// consumer (server restart, inactivity): the way to replay history without gaps.
public actor OrderedConsumer {
    public let jetStream: JetStream
    public let stream: String
    public let filterSubject: String?
    private var nextStreamSequence: UInt64
    private var expectedConsumerSequence: UInt64 = 1
    private var consumerName: String?
    public private(set) var resets = 0

    public init(jetStream: JetStream, stream: String, filterSubject: String? = nil, startSequence: UInt64 = 1) {
        self.jetStream = jetStream
        self.stream = stream
        self.filterSubject = filterSubject
        self.nextStreamSequence = max(startSequence, 1)
    }

    /// The next messages in order (possibly none before `expires`).
    public func next(batch: Int = 256, expires: Duration = .seconds(2)) async throws(GordonError) -> [JetStreamMessage] {
        let name = try await ensureConsumer()
        let fetched: [JetStreamMessage]
        do {
            fetched = try await jetStream.pullConsumer(stream: stream, name: name).fetch(batch: batch, expires: expires)
        } catch where error.code == .jetStreamNotFound || error.code == .natsConnectionClosed || error.code == .natsTimeout {
            await reset()
            return []
        }
        var delivered: [JetStreamMessage] = []
        for message in fetched {
            guard message.metadata.consumerSequence == expectedConsumerSequence else {
                await reset()  // a gap: start again right after what was delivered
                break
            }
            expectedConsumerSequence += 1
            nextStreamSequence = message.metadata.streamSequence + 1
            delivered.append(message)
        }
        return delivered
    }

    private func ensureConsumer() async throws(GordonError) -> String {
        if let consumerName { return consumerName }
        var config = ConsumerConfig(durableName: nil, filterSubject: filterSubject)
        config.deliverPolicy = .byStartSequence
        config.optStartSequence = nextStreamSequence
        config.ackPolicy = .none
        config.maxDeliver = 1
        config.memoryStorage = true
        config.inactiveThreshold = 300_000_000_000
        let info = try await jetStream.createConsumer(stream: stream, config)
        consumerName = info.name
        expectedConsumerSequence = 1
        return info.name
    }

    private func reset() async {
        resets += 1
        if let consumerName { try? await jetStream.deleteConsumer(stream: stream, name: consumerName) }
        consumerName = nil
    }
}
