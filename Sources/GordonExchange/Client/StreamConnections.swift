import GordonKernel
import Logging
import NIOCore
import Synchronization
import WSClient

/// How a long-lived stream connection is kept alive.
public struct StreamConnectionPolicy: Sendable {
    /// First reconnect delay after a drop; doubles per failed attempt up to `maximumBackoff`.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// Binance closes every connection after 24 hours. Before that, a second connection is
    /// opened and the first is closed only once the second delivers, so nothing is missed.
    public var plannedLifetime: Duration
    /// The client pings this often and treats a missing pong as a dead connection.
    public var pingInterval: Duration
    /// A connection must be up (TCP, TLS, the WebSocket upgrade and any subscription
    /// handshake) this soon, or the next attempt starts: a server that accepts and then hangs
    /// would otherwise hold the stream until the planned rollover.
    public var connectTimeout: Duration

    public init(initialBackoff: Duration = .milliseconds(250), maximumBackoff: Duration = .seconds(30),
                plannedLifetime: Duration = .seconds(23 * 3600 + 50 * 60), pingInterval: Duration = .seconds(30),
                connectTimeout: Duration = .seconds(15)) {
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.plannedLifetime = plannedLifetime
        self.pingInterval = pingInterval
        self.connectTimeout = connectTimeout
    }
}

/// What the connections of one stream report, in arrival order, to the one consumer loop
/// that decodes, de-duplicates and delivers. Keeping all state in that single loop means
/// overlapping connections never race each other.
enum StreamInbound: Sendable {
    case connected(generation: Int)
    case message(generation: Int, bytes: [UInt8])
    case disconnected(generation: Int, reason: String)
}

/// A request a new connection must have accepted before it counts as up: the WebSocket
/// API's user data subscription. `request` is asked for anew on every connection (it is
/// signed with a fresh timestamp); `accept` reads the first frame back and throws Binance's
/// refusal, which ends the connection and goes through the usual reconnect backoff.
struct StreamHandshake: Sendable {
    let request: @Sendable () async throws(GordonError) -> (id: String, frame: Secret)
    let accept: @Sendable (_ reply: [UInt8], _ requestId: String) async throws(GordonError) -> Void
}

/// Counters a stream exposes for metrics and tests.
public struct StreamCounters: Sendable, Equatable {
    public var connections = 0
    public var drops = 0
    public var plannedRollovers = 0
    public var messages = 0
    public var malformed = 0
    public var duplicatesDropped = 0
    public var backfilledKlines = 0
}

/// Keeps one WebSocket URL connected: reconnects with exponential backoff after a drop, and
/// rolls over to a fresh connection before the planned lifetime ends, overlapping the two.
/// The URL is asked for anew on every connection (a user data stream's listen key changes).
final class StreamConnections: Sendable {
    let policy: StreamConnectionPolicy
    let logger: Logger
    let counters = Mutex(StreamCounters())

    init(policy: StreamConnectionPolicy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Runs until cancelled, pushing every connection event into `inbox`.
    func run(url: @escaping @Sendable () async throws(GordonError) -> String,
             handshake: StreamHandshake? = nil,
             inbox: AsyncStream<StreamInbound>.Continuation,
             retired: @escaping @Sendable (Int) -> Bool) async {
        var generation = 0
        var backoff = policy.initialBackoff
        await withTaskGroup(of: Void.self) { group in
            // The rollover loop: each pass owns one connection until it drops or is replaced.
            while !Task.isCancelled {
                generation += 1
                let current = generation
                let target: String
                do throws(GordonError) { target = try await url() } catch {
                    logger.warning("stream URL unavailable; retrying", metadata: ["error": "\(error.code.rawValue)", "backoff": "\(backoff)"])
                    if (try? await Task.sleep(for: backoff)) == nil { break }
                    backoff = min(backoff * 2, policy.maximumBackoff)
                    continue
                }
                let ended = AsyncStream<String>.makeStream()
                let upBefore = counters.withLock { $0.connections }
                group.addTask {
                    let reason = await self.connect(url: target, generation: current, handshake: handshake, inbox: inbox, retired: retired)
                    ended.continuation.yield(reason)
                    ended.continuation.finish()
                }
                let outcome: String? = await withTaskGroup(of: String?.self) { race in
                    race.addTask { await ended.stream.first(where: { _ in true }) ?? "ended" }
                    race.addTask { await self.deadline(connectedSince: upBefore) }
                    let first = await race.next() ?? nil
                    race.cancelAll()
                    return first
                }
                guard let outcome else { break }  // cancelled
                if outcome == Self.rollover {
                    counters.withLock { $0.plannedRollovers += 1 }
                    logger.info("planned stream rollover: opening the next connection before closing this one",
                                metadata: ["generation": "\(current)"])
                    backoff = policy.initialBackoff
                    continue  // the old connection keeps reading until the consumer retires it
                }
                counters.withLock { $0.drops += 1 }
                // A connection that came up resets the backoff: only failures in a row grow it.
                if counters.withLock({ $0.connections }) > upBefore { backoff = policy.initialBackoff }
                logger.warning("stream connection ended; reconnecting", metadata: ["generation": "\(current)", "reason": "\(outcome)", "backoff": "\(backoff)"])
                if (try? await Task.sleep(for: backoff)) == nil { break }
                backoff = min(backoff * 2, policy.maximumBackoff)
            }
            group.cancelAll()
        }
    }

    static let rollover = "rollover"

    /// The current connection's two deadlines: up within `connectTimeout`, else "no
    /// connection within …" (the stalled attempt is left to end on its own: the WebSocket
    /// client's upgrade cannot be cancelled, and it retires like any older generation if it
    /// ever comes up); then `rollover` at the planned lifetime. Nil when cancelled.
    private func deadline(connectedSince upBefore: Int) async -> String? {
        let connectDeadline = min(policy.connectTimeout, policy.plannedLifetime)
        guard (try? await Task.sleep(for: connectDeadline)) != nil else { return nil }
        guard counters.withLock({ $0.connections }) > upBefore else {
            return "no connection within \(connectDeadline)"
        }
        guard (try? await Task.sleep(for: policy.plannedLifetime - connectDeadline)) != nil else { return nil }
        return Self.rollover
    }

    /// One connection, until it closes, fails, or is retired by the consumer. Returns why it ended.
    private func connect(url: String, generation: Int, handshake: StreamHandshake?, inbox: AsyncStream<StreamInbound>.Continuation,
                         retired: @escaping @Sendable (Int) -> Bool) async -> String {
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: 1 << 20, closeTimeout: .seconds(2), autoPing: .enabled(timePeriod: policy.pingInterval))
        do {
            let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                if let handshake {
                    let (id, frame) = try await handshake.request()
                    try await outbound.writeTextMessage(frame.withPlainText { $0 })
                    guard let reply = try await iterator.next() else { return }
                    try await handshake.accept(Self.bytes(of: reply), id)
                }
                self.counters.withLock { $0.connections += 1 }
                inbox.yield(.connected(generation: generation))
                while let message = try await iterator.next() {
                    inbox.yield(.message(generation: generation, bytes: Self.bytes(of: message)))
                    if retired(generation) {
                        try? await outbound.close(.normalClosure, reason: "replaced by a newer connection")
                        break
                    }
                }
            }
            let reason = close.map { "closed by server: \($0.closeCode)" } ?? "closed"
            inbox.yield(.disconnected(generation: generation, reason: reason))
            return reason
        } catch {
            let reason = String(describing: error).prefix(160).description
            inbox.yield(.disconnected(generation: generation, reason: reason))
            return reason
        }
    }

    private static func bytes(of message: WebSocketMessage) -> [UInt8] {
        switch message {
        case .text(let text): Array(text.utf8)
        case .binary(let buffer): Array(buffer.readableBytesView)
        }
    }
}
