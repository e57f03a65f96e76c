import GordonKernel
public import Logging
import Synchronization

/// What a user data stream delivers.
public enum UserDataOutput: Sendable, Hashable {
    case event(UserDataEvent)
    /// A new connection is up after a drop or a new listen key: events sent while no
    /// connection was up are gone (Binance does not replay them), so the consumer must
    /// re-read open orders and balances over REST before trusting its state again.
    case resynchronize
    /// No connection is up any more (the last one closed): events are being missed until the
    /// next `resynchronize`. A planned rollover, whose connections overlap, never says this.
    case interrupted
}

/// How the account's events reach the client.
public enum UserDataTransport: Sendable, Hashable {
    /// `userDataStream.subscribe.signature` on the WebSocket API, signed like a REST request
    /// and renewed by nothing but the connection itself. Live Binance serves only this since
    /// it retired the REST listen-key endpoints on 2026-02-20.
    case webSocketAPI
    /// A REST listen key (create, keep alive every 30 minutes, close) and `/ws/<listenKey>`
    /// on the stream endpoint, for exchanges that still serve it (BinanceSim does).
    case listenKey
}

/// The account's user data stream: executionReport, outboundAccountPosition and
/// balanceUpdate, kept up indefinitely over either `UserDataTransport`.
///
/// A listen key lives 60 minutes unless kept alive; it is renewed every `keepAliveInterval`
/// and replaced when Binance reports it expired or a keep-alive fails. A WebSocket API
/// subscription is made anew on every connection, and a refused one (bad key, clock skew)
/// is retried with the reconnect backoff, resynchronising the clock on -1021. Overlapping
/// connections during a rollover can deliver one event twice; such repeats are dropped.
public final class BinanceUserDataStream: Sendable {
    private let rest: BinanceRESTClient
    private let transport: UserDataTransport
    private let connections: StreamConnections
    private let keepAliveInterval: Duration
    private let logger: Logger
    private let listenKey = Mutex<String?>(nil)
    private let newestDelivering = Mutex(0)
    private let subscriptionRequests = Mutex(0)

    public init(rest: BinanceRESTClient, transport: UserDataTransport = .webSocketAPI, policy: StreamConnectionPolicy = StreamConnectionPolicy(),
                keepAliveInterval: Duration = .seconds(30 * 60), logger: Logger = Logger(label: "gordon.exchange.user-data")) {
        self.rest = rest
        self.transport = transport
        self.keepAliveInterval = keepAliveInterval
        self.logger = logger
        self.connections = StreamConnections(policy: policy, logger: logger)
    }

    public var counters: StreamCounters { connections.counters.withLock { $0 } }

    /// Runs until the calling task is cancelled; closes the listen key on the way out.
    public func run(_ deliver: @escaping @Sendable (UserDataOutput) async -> Void) async {
        let (inbox, continuation) = AsyncStream<StreamInbound>.makeStream()
        let endpoint = rest.configuration.endpoint
        let transport = transport
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                let retired: @Sendable (Int) -> Bool = { [self] generation in newestDelivering.withLock { generation < $0 } }
                switch transport {
                case .webSocketAPI:
                    await connections.run(url: { endpoint.webSocketAPIURL }, handshake: subscription(), inbox: continuation, retired: retired)
                case .listenKey:
                    await connections.run(url: { [self] () throws(GordonError) -> String in
                        endpoint.streamBaseURL + "/ws/" + (try await currentListenKey())
                    }, inbox: continuation, retired: retired)
                }
                continuation.finish()
            }
            if transport == .listenKey {
                group.addTask { [self] in await keepAlive() }
            }
            var recent = RecentEvents(capacity: 4096)
            var live: Set<Int> = []
            for await event in inbox {
                if Task.isCancelled { break }
                switch event {
                case .connected(let generation):
                    logger.info("user data stream connected", metadata: ["generation": "\(generation)"])
                    live.insert(generation)
                    await deliver(.resynchronize)
                case .disconnected(let generation, let reason):
                    logger.info("user data stream connection closed", metadata: ["generation": "\(generation)", "reason": "\(reason)"])
                    if live.remove(generation) != nil, live.isEmpty { await deliver(.interrupted) }
                case .message(let generation, let bytes):
                    connections.counters.withLock { $0.messages += 1 }
                    newestDelivering.withLock { $0 = max($0, generation) }
                    let decoded: UserDataEvent
                    do { decoded = try BinanceStreamDecoder.decodeUserData(bytes) } catch {
                        connections.counters.withLock { $0.malformed += 1 }
                        logger.error("malformed user data message dropped", metadata: [
                            "error": "\(error)", "message": "\(String(decoding: bytes.prefix(200), as: UTF8.self))",
                        ])
                        continue
                    }
                    guard recent.insert(decoded) else {
                        connections.counters.withLock { $0.duplicatesDropped += 1 }
                        continue
                    }
                    if case .listenKeyExpired = decoded {
                        logger.warning("listen key expired; a new one is created at the next connection")
                        listenKey.withLock { $0 = nil }
                    }
                    await deliver(.event(decoded))
                }
            }
            group.cancelAll()
        }
        if let key = listenKey.withLock({ $0 }) {
            try? await rest.closeListenKey(key)
        }
    }

    /// The WebSocket API subscription each connection makes before it counts as up.
    private func subscription() -> StreamHandshake {
        StreamHandshake(
            request: { [self] () throws(GordonError) -> (id: String, frame: Secret) in
                let id = "gordon-user-data-" + String(subscriptionRequests.withLock { number in
                    number += 1
                    return number
                })
                return (id, try await rest.userDataSubscriptionRequest(id: id))
            },
            accept: { [self] (reply: [UInt8], id: String) throws(GordonError) in
                await rest.observeWebSocketAPIReply(reply)
                do throws(GordonError) {
                    let subscriptionId = try WebSocketAPIMessages.subscriptionId(fromReply: reply, requestId: id)
                    logger.info("user data stream subscribed", metadata: ["subscriptionId": "\(subscriptionId)"])
                } catch {
                    logger.warning("user data subscription refused", metadata: ["error": "\(error.code.rawValue)", "reason": "\(error.message)"])
                    if error.code == .exchangeClockSkew { try? await rest.resynchronizeClock() }
                    throw error
                }
            })
    }

    private func currentListenKey() async throws(GordonError) -> String {
        if let key = listenKey.withLock({ $0 }) { return key }
        let key = try await rest.createListenKey()
        listenKey.withLock { $0 = key }
        return key
    }

    /// Extends the key every `keepAliveInterval`; a key Binance no longer knows is dropped,
    /// so the next connection creates a new one.
    private func keepAlive() async {
        while (try? await Task.sleep(for: keepAliveInterval)) != nil {
            guard let key = listenKey.withLock({ $0 }) else { continue }
            do { try await rest.keepAliveListenKey(key) } catch {
                logger.warning("listen key keep-alive failed", metadata: ["error": "\(error.code.rawValue)"])
                if error.kind == .invalidInput || error.kind == .notFound || error.kind == .rejectedByExchange {
                    listenKey.withLock { if $0 == key { $0 = nil } }
                }
            }
        }
    }
}

/// The last N events seen, to drop repeats that overlapping connections deliver twice.
struct RecentEvents {
    private var order: [UserDataEvent] = []
    private var members: Set<UserDataEvent> = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// False if the event was already seen.
    mutating func insert(_ event: UserDataEvent) -> Bool {
        guard members.insert(event).inserted else { return false }
        order.append(event)
        if order.count > capacity {
            members.remove(order.removeFirst())
        }
        return true
    }
}
