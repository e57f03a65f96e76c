public import GordonKernel
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import NIOSSL

/// Something worth knowing about the connection, for logs, metrics and tests.
public enum NATSClientEvent: Sendable {
    case connected(server: String)
    case disconnected(reason: GordonError)
    case reconnected(server: String)
    case serverError(GordonError)
    case slowConsumer(subject: String, dropped: Int)
    case lameDuckMode
    case closed
}

/// A NATS client: publish, subscribe, request/reply, flush, drain, reconnect.
///
/// Thread-safe; every method may be called from any task. Publishes are appended to one
/// outbound buffer and written by the connection's event loop in batches, so a burst of
/// small messages costs one syscall per batch, not per message.
public final class NATSClient: Sendable {
    public let options: NATSClientOptions
    let logger: Logger
    private let group: any EventLoopGroup
    private let state: NIOLockedValueBox<ClientState>
    private let tlsContextBox: NIOLockedValueBox<NIOSSLContext?>
    private let eventContinuation: AsyncStream<NATSClientEvent>.Continuation
    /// Connection events (connected, disconnected, reconnected, errors). One reader.
    public let events: AsyncStream<NATSClientEvent>
    /// Reply subjects of `request` share one wildcard subscription under this prefix.
    let muxPrefix: String

    enum Status {
        case connecting
        case connected(any Channel, NATSServerInfo)
        case reconnecting
        case closed
    }

    enum Sink {
        case stream(AsyncThrowingStream<NATSMessage, any Error>.Continuation)
        case requests
    }

    struct SubscriptionRecord {
        var subject: String
        var queue: String?
        var max: Int?
        var delivered: Int = 0
        var dropped: Int = 0
        var sink: Sink
    }

    /// A request awaiting its reply. The completion runs on the connection's event loop, so
    /// a reply costs no thread hop before the caller's own.
    struct PendingRequest {
        var deadline: NIODeadline
        var subject: String
        var complete: @Sendable (Result<NATSMessage, GordonError>) -> Void
    }

    struct ClientState {
        var status: Status = .connecting
        var outbound: ByteBuffer = ByteBuffer()
        var writeScheduled = false
        var subscriptions: [UInt64: SubscriptionRecord] = [:]
        var nextSid: UInt64 = 1
        var muxSid: UInt64?
        var requests: [UInt64: PendingRequest] = [:]
        var sweeper: RepeatedTask?
        var asyncOutstanding = 0
        var asyncSlotWaiters: [CheckedContinuation<Void, Never>] = []
        var asyncDrainWaiters: [CheckedContinuation<Void, Never>] = []
        var nextRequestToken: UInt64 = 1
        var flushes: [UInt64: EventLoopPromise<Void>] = [:]
        var nextFlushId: UInt64 = 1
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        var discoveredServers: [NATSServerAddress] = []
        var serverIndex = 0
        var userClosed = false
        var statistics = NATSStatistics()
        var permissionErrors: [GordonError] = []
    }

    private init(options: NATSClientOptions, logger: Logger, group: any EventLoopGroup) {
        self.options = options
        self.logger = logger
        self.group = group
        self.state = NIOLockedValueBox(ClientState())
        self.tlsContextBox = NIOLockedValueBox(nil)
        (events, eventContinuation) = AsyncStream.makeStream(of: NATSClientEvent.self, bufferingPolicy: .bufferingNewest(1024))
        muxPrefix = "\(options.inboxPrefix).\(NUID.next())."
    }

    /// Connects to the first server that answers (in order) or throws the last failure.
    public static func connect(
        _ options: NATSClientOptions,
        logger: Logger = Logger(label: "gordon.nats"),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws(GordonError) -> NATSClient {
        let client = NATSClient(options: options, logger: logger, group: eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton)
        var lastError = GordonError(.natsConnectFailed, "no NATS server given")
        for address in options.servers {
            do {
                try await client.connectOnce(address)
                client.emit(.connected(server: address.description))
                return client
            } catch {
                lastError = error
                client.logger.warning("nats connect failed", metadata: ["server": "\(address)", "error": "\(error)"])
            }
        }
        client.state.withLockedValue { $0.status = .closed; $0.userClosed = true }
        throw lastError
    }

    // MARK: Connection

    func tlsContext() throws -> NIOSSLContext {
        try tlsContextBox.withLockedValue { box in
            if let box { return box }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let file = options.tls?.trustRootsFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            }
            let context = try NIOSSLContext(configuration: configuration)
            box = context
            return context
        }
    }

    private func connectOnce(_ address: NATSServerAddress) async throws(GordonError) {
        let loop = group.next()
        let handshake = loop.makePromise(of: NATSServerInfo.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(options.connectTimeout)
            // TCP_NODELAY is a TCP-level option: given at the socket level its number is
            // SO_DEBUG, which only a privileged process may set.
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NATSChannelHandler(client: self, address: address, handshake: handshake))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            handshake.fail(error)
            throw GordonError(.natsConnectFailed, "cannot reach NATS server \(address)", context: ["server": address.description], underlying: error)
        }
        let timeout = loop.scheduleTask(in: options.connectTimeout) {
            handshake.fail(GordonError(.natsTimeout, "NATS handshake timed out", context: ["server": address.description]))
            channel.close(promise: nil)
        }
        // Cancelled on the loop the moment the handshake ends, not when this task next runs:
        // on a loaded machine that can be seconds later, and the timer would then close a
        // connection that had just come up.
        handshake.futureResult.whenComplete { _ in timeout.cancel() }
        let info: NATSServerInfo
        do {
            info = try await handshake.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw (error as? GordonError) ?? GordonError(.natsConnectFailed, "NATS handshake failed", underlying: error)
        }
        // Becoming current, resubscribing and releasing buffered publishes happen in one
        // step on the channel's loop, so nothing published later can overtake them.
        let activated = try? await loop.submit { self.activate(channel, info: info, address: address) }.get()
        guard activated == true else {
            channel.close(promise: nil)
            throw GordonError(.natsConnectFailed, "NATS connection closed during the handshake", context: ["server": address.description])
        }
    }

    private func activate(_ channel: any Channel, info: NATSServerInfo, address: NATSServerAddress) -> Bool {
        guard channel.isActive else { return false }
        let bytes: ByteBuffer? = state.withLockedValue { state in
            if state.userClosed { return nil }
            state.status = .connected(channel, info)
            mergeDiscovered(info, into: &state, dialled: address)
            var buffer = channel.allocator.buffer(capacity: 1024 + state.outbound.readableBytes)
            for (sid, record) in state.subscriptions.sorted(by: { $0.key < $1.key }) {
                NATSCommands.subscribe(into: &buffer, subject: record.subject, queue: record.queue, sid: sid)
                if let max = record.max { NATSCommands.unsubscribe(into: &buffer, sid: sid, max: max - record.delivered) }
            }
            buffer.writeBuffer(&state.outbound)
            state.outbound.clear()
            state.writeScheduled = false
            return buffer
        }
        guard let bytes else { return false }
        channel.writeAndFlush(bytes, promise: nil)
        resumeRoomWaiters()
        return true
    }

    private func mergeDiscovered(_ info: NATSServerInfo, into state: inout ClientState, dialled: NATSServerAddress?) {
        for url in info.connectURLs {
            guard var address = try? NATSServerAddress(url: url) else { continue }
            address.tls = dialled?.tls ?? false
            if !options.servers.contains(where: { $0.host == address.host && $0.port == address.port }),
               !state.discoveredServers.contains(address) {
                state.discoveredServers.append(address)
            }
        }
    }

    func connectJSON(info: NATSServerInfo, tls: Bool, address: NATSServerAddress) -> String {
        var fields = [
            "\"verbose\":false", "\"pedantic\":false", "\"lang\":\"swift\"", "\"version\":\"gordon-nats-1\"",
            "\"protocol\":1", "\"headers\":true", "\"no_responders\":true",
            "\"echo\":\(options.echo)", "\"tls_required\":\(tls)", "\"name\":\(JSONStringLiteral.quoted(options.name))",
        ]
        switch options.auth {
        case .none: break
        case .userPassword(let user, let password):
            fields.append("\"user\":\(JSONStringLiteral.quoted(user))")
            password.withPlainText { fields.append("\"pass\":\(JSONStringLiteral.quoted($0))") }
        case .token(let token):
            token.withPlainText { fields.append("\"auth_token\":\(JSONStringLiteral.quoted($0))") }
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    // MARK: Called by the channel handler, on its event loop

    func connectionLost(_ channel: any Channel, reason: GordonError, flushes: [UInt64]) {
        let wasCurrent: Bool = state.withLockedValue { state in
            guard case .connected(let current, _) = state.status, current === channel else { return false }
            state.status = state.userClosed ? .closed : .reconnecting
            return !state.userClosed
        }
        flushFailed(flushes, GordonError(.natsConnectionClosed, "NATS connection lost before the flush completed"))
        guard wasCurrent else { return }
        // What was queued but not yet written is dropped, not replayed after the reconnect:
        // the server received some prefix of what this connection wrote, and sending the
        // unwritten rest later would let it arrive without the lost part before it (an
        // acknowledged publisher retries from its first unacknowledged message, in order).
        // Requests in flight fail now, since their replies can no longer come.
        let orphaned: [PendingRequest] = state.withLockedValue { state in
            state.outbound.clear()
            state.writeScheduled = false
            defer { state.requests.removeAll() }
            return Array(state.requests.values)
        }
        let lost = GordonError(.natsConnectionClosed, "NATS connection lost with the request in flight; it may or may not have reached the server")
        orphaned.forEach { $0.complete(.failure(lost)) }
        failAllFlushes(GordonError(.natsConnectionClosed, "NATS connection lost before the flush completed"))
        resumeRoomWaiters()
        logger.warning("nats disconnected", metadata: ["reason": "\(reason)"])
        emit(.disconnected(reason: reason))
        Task { await self.reconnectLoop() }
    }

    func deliver(_ message: NATSMessage) {
        enum Route { case none, stream(AsyncThrowingStream<NATSMessage, any Error>.Continuation, finish: Bool), reply(PendingRequest?) }
        let route: Route = state.withLockedValue { state in
            state.statistics.messagesIn += 1
            state.statistics.bytesIn += message.payload.readableBytes
            guard var record = state.subscriptions[message.sid] else { return .none }
            switch record.sink {
            case .requests:
                let token = message.subject.hasPrefix(muxPrefix) ? UInt64(message.subject.dropFirst(muxPrefix.count)) : nil
                return .reply(token.flatMap { state.requests.removeValue(forKey: $0) })
            case .stream(let continuation):
                record.delivered += 1
                let finished = record.max.map { record.delivered >= $0 } ?? false
                if finished { state.subscriptions[message.sid] = nil } else { state.subscriptions[message.sid] = record }
                return .stream(continuation, finish: finished)
            }
        }
        switch route {
        case .none:
            break
        case .reply(let pending):
            if message.status == 503 {
                pending?.complete(.failure(GordonError(.natsNoResponders, "no responders on the request subject",
                                                       context: ["subject": pending?.subject ?? ""])))
            } else {
                pending?.complete(.success(message))
            }
        case .stream(let continuation, let finish):
            if case .dropped = continuation.yield(message) { noteDropped(message) }
            if finish { continuation.finish() }
        }
    }

    private func noteDropped(_ message: NATSMessage) {
        let (dropped, subject): (Int, String) = state.withLockedValue { state in
            state.statistics.droppedMessages += 1
            guard var record = state.subscriptions[message.sid] else { return (0, message.subject) }
            record.dropped += 1
            state.subscriptions[message.sid] = record
            return (record.dropped, record.subject)
        }
        // Report the first drop and then every 10,000th, so a slow reader is visible without
        // flooding the log.
        if dropped == 1 || dropped % 10_000 == 0 {
            logger.warning("nats slow consumer: dropping messages", metadata: ["subject": "\(subject)", "dropped": "\(dropped)"])
            emit(.slowConsumer(subject: subject, dropped: dropped))
        }
    }

    func flushCompleted(_ id: UInt64) {
        state.withLockedValue { $0.flushes.removeValue(forKey: id) }?.succeed(())
    }

    func flushFailed(_ ids: [UInt64], _ error: GordonError) {
        let promises = state.withLockedValue { state in ids.compactMap { state.flushes.removeValue(forKey: $0) } }
        promises.forEach { $0.fail(error) }
    }

    private func failAllFlushes(_ error: GordonError) {
        let promises = state.withLockedValue { state in
            defer { state.flushes.removeAll() }
            return Array(state.flushes.values)
        }
        promises.forEach { $0.fail(error) }
    }

    func serverInfoUpdated(_ info: NATSServerInfo) {
        state.withLockedValue { state in
            if case .connected(let channel, _) = state.status { state.status = .connected(channel, info) }
            mergeDiscovered(info, into: &state, dialled: nil)
        }
        if info.lameDuckMode {
            logger.notice("nats server entered lame duck mode")
            emit(.lameDuckMode)
        }
    }

    func serverReported(_ error: GordonError) {
        logger.error("nats server error", metadata: ["error": "\(error)"])
        // A refused subscription ends that subscription's sequence with the error.
        var refused: [AsyncThrowingStream<NATSMessage, any Error>.Continuation] = []
        let refusedRequest: PendingRequest? = state.withLockedValue { state in
            state.permissionErrors.append(error)
            if state.permissionErrors.count > 1000 { state.permissionErrors.removeFirst() }
            let original = error.context["server_error"] ?? ""
            let text = original.lowercased()
            // A refused publish gets no reply: fail the oldest request to that subject now
            // (the server sends one -ERR per refused message, in order) instead of letting it
            // time out, so a caller such as the outbox relay can tell "refused" from "lost".
            if text.hasPrefix("permissions violation for publish to "), let subject = Self.quotedSubject(in: original),
               let token = state.requests.filter({ $0.value.subject == subject }).keys.min() {
                return state.requests.removeValue(forKey: token)
            }
            guard text.hasPrefix("permissions violation for subscription to ") else { return nil }
            for (sid, record) in state.subscriptions {
                if case .stream(let continuation) = record.sink, text.contains("\"\(record.subject.lowercased())\"") {
                    refused.append(continuation)
                    state.subscriptions[sid] = nil
                }
            }
            return nil
        }
        refusedRequest?.complete(.failure(error))
        refused.forEach { $0.finish(throwing: error) }
        emit(.serverError(error))
    }

    /// The subject between the first pair of double quotes of a server error.
    static func quotedSubject(in text: String) -> String? {
        guard let open = text.firstIndex(of: "\"") else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }

    func channelBecameWritable(_ channel: any Channel) { writeOutbound(channel, force: false) }

    // MARK: Reconnect

    private func reconnectLoop() async {
        var attempt = 0
        while true {
            let (closed, candidates): (Bool, [NATSServerAddress]) = state.withLockedValue { state in
                (state.userClosed, options.servers + state.discoveredServers)
            }
            if closed { return }
            attempt += 1
            if let max = options.reconnect.maxAttempts, attempt > max {
                logger.error("nats reconnect gave up", metadata: ["attempts": "\(attempt - 1)"])
                await close()
                return
            }
            let delay = options.reconnect.delay(attempt: attempt, random: Double.random(in: 0...1))
            try? await Task.sleep(nanoseconds: UInt64(max(delay.nanoseconds, 0)))
            let index = state.withLockedValue { state in
                defer { state.serverIndex += 1 }
                return state.serverIndex % candidates.count
            }
            let address = candidates[index]
            do {
                try await connectOnce(address)
                state.withLockedValue { $0.statistics.reconnects += 1 }
                logger.notice("nats reconnected", metadata: ["server": "\(address)", "attempts": "\(attempt)"])
                emit(.reconnected(server: address.description))
                return
            } catch {
                logger.debug("nats reconnect attempt failed", metadata: ["server": "\(address)", "error": "\(error)"])
            }
        }
    }

    // MARK: Publishing

    private enum Admission { case written, schedule(any Channel), wait, full, closed, disconnected }

    /// Publishes `payload` on `subject`. Returns once the message is queued for the socket
    /// (or, while reconnecting, in the reconnect buffer); waits while more than
    /// `maxPendingWriteBytes` are queued. Core NATS is at-most-once: use JetStream for
    /// acknowledged delivery.
    public func publish(_ payload: some Collection<UInt8>, to subject: String, replyTo: String? = nil,
                        headers: NATSHeaders? = nil) async throws(GordonError) {
        try NATSCommands.validatePublishSubject(subject)
        if let replyTo { try NATSCommands.validatePublishSubject(replyTo) }
        let headerBytes = try headers.map { h throws(GordonError) in try h.encoded() }
        try await enqueue(subject: subject, replyTo: replyTo, headerBytes: headerBytes, payload: payload)
    }

    public func publish(_ text: String, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil) async throws(GordonError) {
        try await publish(Array(text.utf8), to: subject, replyTo: replyTo, headers: headers)
    }

    /// `bufferWhileDisconnected: false` refuses instead of keeping the message for the
    /// reconnect, for a publisher that must never have a later message arrive without an
    /// earlier one (the outbox relay).
    private func enqueue(subject: String, replyTo: String?, headerBytes: [UInt8]?, payload: some Collection<UInt8>,
                         bufferWhileDisconnected: Bool = true) async throws(GordonError) {
        let size = payload.count + (headerBytes?.count ?? 0)
        while true {
            let admission: Admission = state.withLockedValue { state in
                let maxPayload: Int
                switch state.status {
                case .closed: return .closed
                case .connected(_, let info): maxPayload = info.maxPayload
                case .connecting, .reconnecting: maxPayload = Int.max
                }
                if size > maxPayload { return .full }
                switch state.status {
                case .connected(let channel, _):
                    if state.outbound.readableBytes > options.maxPendingWriteBytes { return .wait }
                    NATSCommands.publish(into: &state.outbound, subject: subject, replyTo: replyTo, headers: headerBytes, payload: payload)
                    state.statistics.messagesOut += 1
                    state.statistics.bytesOut += size
                    if state.writeScheduled { return .written }
                    state.writeScheduled = true
                    return .schedule(channel)
                default:
                    if !bufferWhileDisconnected { return .disconnected }
                    if state.outbound.readableBytes + size + subject.utf8.count + 64 > options.reconnectBufferBytes { return .wait }
                    NATSCommands.publish(into: &state.outbound, subject: subject, replyTo: replyTo, headers: headerBytes, payload: payload)
                    state.statistics.messagesOut += 1
                    state.statistics.bytesOut += size
                    return .written
                }
            }
            switch admission {
            case .written:
                return
            case .schedule(let channel):
                channel.eventLoop.execute { self.writeOutbound(channel, force: false) }
                return
            case .closed:
                throw GordonError(.natsConnectionClosed, "NATS client is closed")
            case .disconnected:
                throw GordonError(.natsConnectionClosed, "NATS is disconnected, and this message is not kept for the reconnect",
                                  context: ["subject": subject])
            case .full:
                throw GordonError(.natsPayloadTooLarge, "message of \(size) bytes exceeds the server's max_payload",
                                  context: ["subject": subject])
            case .wait:
                // Disconnected with a full reconnect buffer: refuse, explicitly, rather than
                // block a producer for an unknown time or drop silently.
                let disconnected = state.withLockedValue { if case .connected = $0.status { false } else { true } }
                if disconnected {
                    throw GordonError(.natsReconnectBufferFull, "NATS is disconnected and the \(options.reconnectBufferBytes)-byte reconnect buffer is full",
                                      context: ["subject": subject])
                }
                await waitForRoom()
            }
        }
    }

    private func waitForRoom() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow: Bool = state.withLockedValue { state in
                guard case .connected = state.status, state.outbound.readableBytes > options.maxPendingWriteBytes else { return true }
                state.roomWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func resumeRoomWaiters() {
        let waiters = state.withLockedValue { state in
            defer { state.roomWaiters.removeAll() }
            return state.roomWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Hands the outbound buffer to the channel. Runs on the channel's loop. Without `force`
    /// it leaves the bytes queued while the socket is not writable (back-pressure).
    func writeOutbound(_ channel: any Channel, force: Bool) {
        let bytes: ByteBuffer? = state.withLockedValue { state in
            state.writeScheduled = false
            guard case .connected(let current, _) = state.status, current === channel,
                  state.outbound.readableBytes > 0, force || channel.isWritable else { return nil }
            let bytes = state.outbound
            state.outbound = channel.allocator.buffer(capacity: min(max(bytes.readableBytes, 4096), 1 << 20))
            return bytes
        }
        guard let bytes else { return }
        channel.writeAndFlush(bytes, promise: nil)
        resumeRoomWaiters()
    }

    // MARK: Subscribing

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group. Messages
    /// arrive in order; past `pendingLimit` unread messages new ones are dropped and counted.
    public func subscribe(to subject: String, queue: String? = nil, pendingLimit: Int? = nil) async throws(GordonError) -> NATSSubscription {
        try NATSCommands.validateSubscribeSubject(subject)
        if let queue { try NATSCommands.validateQueueGroup(queue) }
        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: NATSMessage.self, throwing: (any Error).self,
            bufferingPolicy: .bufferingOldest(pendingLimit ?? options.subscriptionPendingLimit))
        let sid = try register(SubscriptionRecord(subject: subject, queue: queue, sink: .stream(continuation)))
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { Task { try? await self?.unsubscribe(sid: sid, after: nil) } }
        }
        return NATSSubscription(sid: sid, subject: subject, queue: queue, stream: stream, client: self)
    }

    private func register(_ record: SubscriptionRecord) throws(GordonError) -> UInt64 {
        let result: (UInt64, (any Channel)?)? = state.withLockedValue { state in
            if case .closed = state.status { return nil }
            let sid = state.nextSid
            state.nextSid += 1
            state.subscriptions[sid] = record
            // While disconnected the SUB is not queued: resubscription sends it on reconnect.
            guard case .connected(let channel, _) = state.status else { return (sid, nil) }
            NATSCommands.subscribe(into: &state.outbound, subject: record.subject, queue: record.queue, sid: sid)
            if state.writeScheduled { return (sid, nil) }
            state.writeScheduled = true
            return (sid, channel)
        }
        guard let (sid, channel) = result else { throw GordonError(.natsConnectionClosed, "NATS client is closed") }
        if let channel { channel.eventLoop.execute { self.writeOutbound(channel, force: true) } }
        return sid
    }

    /// Removes a subscription now (`after == nil`) or after `after` more messages in total.
    func unsubscribe(sid: UInt64, after max: Int?) async throws(GordonError) {
        let (continuation, channel): (AsyncThrowingStream<NATSMessage, any Error>.Continuation?, (any Channel)?) = state.withLockedValue { state in
            guard var record = state.subscriptions[sid] else { return (nil, nil) }
            var finished: AsyncThrowingStream<NATSMessage, any Error>.Continuation?
            if let max, record.delivered < max {
                record.max = max
                state.subscriptions[sid] = record
            } else {
                state.subscriptions[sid] = nil
                if case .stream(let continuation) = record.sink { finished = continuation }
            }
            guard case .connected(let channel, _) = state.status else { return (finished, nil) }
            NATSCommands.unsubscribe(into: &state.outbound, sid: sid, max: max)
            if state.writeScheduled { return (finished, nil) }
            state.writeScheduled = true
            return (finished, channel)
        }
        if let channel { channel.eventLoop.execute { self.writeOutbound(channel, force: true) } }
        continuation?.finish()
    }

    func droppedCount(sid: UInt64) -> Int {
        state.withLockedValue { $0.subscriptions[sid]?.dropped ?? 0 }
    }

    // MARK: Request/reply

    /// Sends a request and waits for the first reply. Throws `natsNoResponders` at once when
    /// nobody listens on `subject`, `natsTimeout` after `timeout`.
    public func request(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders? = nil,
                        timeout: TimeAmount? = nil) async throws(GordonError) -> NATSMessage {
        let future = try await requestFuture(payload, to: subject, headers: headers, timeout: timeout)
        do {
            return try await future.get()
        } catch {
            throw (error as? GordonError) ?? GordonError(.natsConnectionClosed, "request failed", underlying: error)
        }
    }

    /// Like `request`, returning as soon as the request is queued so callers can pipeline
    /// many (JetStream async publish uses this).
    public func requestFuture(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders? = nil,
                              timeout: TimeAmount? = nil) async throws(GordonError) -> EventLoopFuture<NATSMessage> {
        try await requestFuture(payload, to: subject, headers: headers, timeout: timeout, literalWildcards: false)
    }

    /// `literalWildcards`: the JetStream API embeds filter subjects such as `a.>` in the
    /// subject it is sent to; there `*` and `>` are literal tokens, not wildcards.
    func request(_ payload: some Collection<UInt8>, to subject: String, timeout: TimeAmount?, literalWildcards: Bool) async throws(GordonError) -> NATSMessage {
        let future = try await requestFuture(payload, to: subject, headers: nil, timeout: timeout, literalWildcards: literalWildcards)
        do {
            return try await future.get()
        } catch {
            throw (error as? GordonError) ?? GordonError(.natsConnectionClosed, "request failed", underlying: error)
        }
    }

    func requestFuture(_ payload: some Collection<UInt8>, to subject: String, headers: NATSHeaders?,
                       timeout: TimeAmount?, literalWildcards: Bool) async throws(GordonError) -> EventLoopFuture<NATSMessage> {
        if literalWildcards {
            try NATSCommands.validateSubscribeSubject(subject)
        } else {
            try NATSCommands.validatePublishSubject(subject)
        }
        let headerBytes = try headers.map { h throws(GordonError) in try h.encoded() }
        let promise = replyLoop().makePromise(of: NATSMessage.self)
        try await sendRequest(payload, to: subject, headerBytes: headerBytes, timeout: timeout) { result in
            switch result {
            case .success(let message): promise.succeed(message)
            case .failure(let error): promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// Registers `complete` for the reply, then publishes the request. `complete` runs
    /// exactly once: with the reply, no-responders, the timeout or the client's close.
    func sendRequest(_ payload: some Collection<UInt8>, to subject: String, headerBytes: [UInt8]?, timeout: TimeAmount?,
                     bufferWhileDisconnected: Bool = true,
                     complete: @escaping @Sendable (Result<NATSMessage, GordonError>) -> Void) async throws(GordonError) {
        do {
            try await ensureReplySubscription()
        } catch {
            complete(.failure(error))
            throw error
        }
        let limit = timeout ?? options.requestTimeout
        let token = state.withLockedValue { state in
            let token = state.nextRequestToken
            state.nextRequestToken += 1
            state.requests[token] = PendingRequest(deadline: .now() + limit, subject: subject, complete: complete)
            if state.sweeper == nil { state.sweeper = startSweeper() }
            return token
        }
        do {
            try await enqueue(subject: subject, replyTo: muxPrefix + String(token), headerBytes: headerBytes, payload: payload,
                              bufferWhileDisconnected: bufferWhileDisconnected)
        } catch {
            if let pending = state.withLockedValue({ $0.requests.removeValue(forKey: token) }) { pending.complete(.failure(error)) }
            throw error
        }
    }

    // MARK: Async publish window

    /// Waits for one of `limit` slots for an unacknowledged publish (JetStream async
    /// publishing's bound on outstanding acks).
    func acquireAsyncSlot(limit: Int) async {
        let granted = state.withLockedValue { state in
            guard state.asyncOutstanding < limit, state.asyncSlotWaiters.isEmpty else { return false }
            state.asyncOutstanding += 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLockedValue { state in
                if state.asyncOutstanding < limit && state.asyncSlotWaiters.isEmpty {
                    state.asyncOutstanding += 1
                    return true
                }
                state.asyncSlotWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Gives a slot back. Waiting publishers are let in only once the window has drained to
    /// half, in one go: waking one publisher per ack would send one message per syscall.
    func releaseAsyncSlot(limit: Int) {
        let (admitted, drained): ([CheckedContinuation<Void, Never>], [CheckedContinuation<Void, Never>]) = state.withLockedValue { state in
            state.asyncOutstanding -= 1
            var admitted: [CheckedContinuation<Void, Never>] = []
            if state.asyncOutstanding <= limit / 2 {
                while !state.asyncSlotWaiters.isEmpty && state.asyncOutstanding < limit {
                    admitted.append(state.asyncSlotWaiters.removeFirst())
                    state.asyncOutstanding += 1
                }
            }
            var drained: [CheckedContinuation<Void, Never>] = []
            if state.asyncOutstanding == 0 { swap(&drained, &state.asyncDrainWaiters) }
            return (admitted, drained)
        }
        admitted.forEach { $0.resume() }
        drained.forEach { $0.resume() }
    }

    /// Returns once every async publish has its ack (or its failure).
    func waitForAsyncPublishes() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLockedValue { state in
                if state.asyncOutstanding == 0 { return true }
                state.asyncDrainWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The loop replies are delivered on (the connection's), for promises completed by them.
    func replyLoop() -> any EventLoop {
        state.withLockedValue { state -> any EventLoop in
            if case .connected(let channel, _) = state.status { return channel.eventLoop }
            return group.any()
        }
    }

    /// Replies to every request arrive on one wildcard subscription, made on first use.
    private func ensureReplySubscription() async throws(GordonError) {
        let muxSubject = muxPrefix + "*"
        let needsMux = state.withLockedValue { $0.muxSid == nil }
        if needsMux {
            let sid = try register(SubscriptionRecord(subject: muxSubject, queue: nil, sink: .requests))
            let duplicate: Bool = state.withLockedValue { state in
                if state.muxSid == nil { state.muxSid = sid; return false }
                return true
            }
            if duplicate { try await unsubscribe(sid: sid, after: nil) }
        }
    }

    /// One timer for all requests (rather than one per request): every 20 ms it fails the
    /// requests whose deadline has passed.
    private func startSweeper() -> RepeatedTask {
        group.next().scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { [weak self] _ in
            guard let self else { return }
            let now = NIODeadline.now()
            let expired: [PendingRequest] = self.state.withLockedValue { state in
                var expired: [PendingRequest] = []
                for (token, pending) in state.requests where pending.deadline <= now {
                    expired.append(pending)
                    state.requests[token] = nil
                }
                return expired
            }
            for pending in expired {
                pending.complete(.failure(GordonError(.natsTimeout, "no reply in time", context: ["subject": pending.subject])))
            }
        }
    }

    // MARK: Flush, drain, close

    /// Returns when the server has processed everything this client sent before the call
    /// (a PING/PONG round trip behind the queued bytes).
    public func flush(timeout: TimeAmount = .seconds(10)) async throws(GordonError) {
        let pending: (any Channel, EventLoopPromise<Void>, UInt64)? = state.withLockedValue { state in
            guard case .connected(let channel, _) = state.status else { return nil }
            let id = state.nextFlushId
            state.nextFlushId += 1
            let promise = channel.eventLoop.makePromise(of: Void.self)
            state.flushes[id] = promise
            return (channel, promise, id)
        }
        guard let (channel, promise, id) = pending else {
            throw GordonError(.natsConnectionClosed, "NATS is not connected")
        }
        channel.eventLoop.execute {
            self.writeOutbound(channel, force: true)
            channel.triggerUserOutboundEvent(NATSFlushRequest(id: id), promise: nil)
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { [self] in
            flushFailed([id], GordonError(.natsTimeout, "flush timed out"))
        }
        do {
            try await promise.futureResult.get()
            timer.cancel()
        } catch {
            timer.cancel()
            throw (error as? GordonError) ?? GordonError(.natsConnectionClosed, "flush failed", underlying: error)
        }
    }

    /// Stops every subscription (messages already buffered stay readable), sends what is
    /// queued, then closes: the graceful way to shut a service down.
    public func drain(timeout: TimeAmount = .seconds(10)) async throws(GordonError) {
        let sids = state.withLockedValue { state in state.subscriptions.keys.sorted() }
        for sid in sids where sid != state.withLockedValue({ $0.muxSid }) {
            try await unsubscribe(sid: sid, after: nil)
        }
        try await flush(timeout: timeout)
        await close()
    }

    /// Closes the connection now. Subscriptions end, pending requests and flushes fail.
    public func close() async {
        let (channel, subscriptions, requests): ((any Channel)?, [SubscriptionRecord], [PendingRequest]) = state.withLockedValue { state in
            state.sweeper?.cancel()
            state.sweeper = nil
            let channel: (any Channel)? = if case .connected(let channel, _) = state.status { channel } else { nil }
            state.status = .closed
            state.userClosed = true
            defer { state.subscriptions.removeAll(); state.requests.removeAll() }
            return (channel, Array(state.subscriptions.values), Array(state.requests.values))
        }
        if let channel {
            // Whatever is queued goes out before the close.
            try? await channel.eventLoop.submit { self.forceWriteOnClose(channel) }.get()
            try? await channel.close()
        }
        let closed = GordonError(.natsConnectionClosed, "NATS client is closed")
        for record in subscriptions { if case .stream(let continuation) = record.sink { continuation.finish() } }
        requests.forEach { $0.complete(.failure(closed)) }
        failAllFlushes(closed)
        resumeRoomWaiters()
        emit(.closed)
        eventContinuation.finish()
    }

    private func forceWriteOnClose(_ channel: any Channel) {
        let bytes: ByteBuffer = state.withLockedValue { state in
            defer { state.outbound.clear() }
            return state.outbound
        }
        if bytes.readableBytes > 0 { channel.writeAndFlush(bytes, promise: nil) }
    }

    // MARK: Introspection

    public var isConnected: Bool { state.withLockedValue { if case .connected = $0.status { true } else { false } } }

    public var serverInfo: NATSServerInfo? {
        state.withLockedValue { if case .connected(_, let info) = $0.status { info } else { nil } }
    }

    public var statistics: NATSStatistics { state.withLockedValue { $0.statistics } }

    /// Permission violations the server reported, oldest first (at most 1000 kept).
    public var permissionErrors: [GordonError] { state.withLockedValue { $0.permissionErrors } }

    /// Servers learnt from INFO `connect_urls`, in addition to the configured ones.
    public var discoveredServers: [NATSServerAddress] { state.withLockedValue { $0.discoveredServers } }

    /// A fresh unique subject under this client's inbox prefix.
    public func newInbox() -> String { "\(options.inboxPrefix).\(NUID.next())" }

    private func emit(_ event: NATSClientEvent) { eventContinuation.yield(event) }
}

public struct NATSStatistics: Sendable {
    public var messagesIn = 0
    public var messagesOut = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var reconnects = 0
    public var droppedMessages = 0
}

/// A subscription's messages, in order. Ending iteration early (breaking out of the loop or
/// cancelling the task) unsubscribes.
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage
    public let sid: UInt64
    public let subject: String
    public let queue: String?
    let stream: AsyncThrowingStream<NATSMessage, any Error>
    let client: NATSClient

    public func makeAsyncIterator() -> AsyncThrowingStream<NATSMessage, any Error>.AsyncIterator { stream.makeAsyncIterator() }

    /// Unsubscribes now, or once `max` messages in total have been delivered.
    public func unsubscribe(after max: Int? = nil) async throws(GordonError) {
        try await client.unsubscribe(sid: sid, after: max)
    }

    /// Messages dropped because the reader fell behind by more than the pending limit.
    public var droppedMessages: Int { client.droppedCount(sid: sid) }
}

/// Unique tokens for inboxes: 22 characters of base62 from the system generator.
enum NUID {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static func next() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<22).map { _ in alphabet[Int(generator.next() % 62)] }, as: UTF8.self)
    }
}

