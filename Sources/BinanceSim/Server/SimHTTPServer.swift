public import GordonKernel
public import Hummingbird
import HummingbirdWebSocket
import HTTPTypes
public import Logging
import NIOCore
import Synchronization

/// BinanceSim on the network: Binance's REST paths, its WebSocket streams (`/stream?streams=…`
/// combined, `/ws/<stream>` raw, `/ws/<listenKey>` user data) and its WebSocket API
/// (`/ws-api/v3`) on one port, plus the simulator's own control endpoints under `/sim/`.
public struct SimHTTPServer: Sendable {
    public let simulator: BinanceSimulator
    public let host: String
    public let port: Int
    private let logger: Logger

    public init(simulator: BinanceSimulator, host: String = "127.0.0.1", port: Int = 0, logger: Logger = Logger(label: "gordon.binance-sim")) {
        self.simulator = simulator
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// The Hummingbird application; run it (or add it to a `ServiceGroup`). `onRunning`
    /// receives the bound port (useful with port 0). `ownRoutes` answers first, for the
    /// paths that are the process's rather than Binance's (`/healthz`, `/metrics`); nil
    /// passes the request on to the simulator.
    public func application(
        ownRoutes: @escaping @Sendable (Request) async -> Response? = { _ in nil },
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let simulator = simulator
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            if let own = await ownRoutes(request) { return own }
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let apiKey = request.headers[HTTPField.Name("X-MBX-APIKEY")!]
            let reply = await simulator.respond(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                body: body.readableBytes > 0 ? String(buffer: body) : nil, apiKey: apiKey)
            var headers = HTTPFields()
            headers[.contentType] = reply.contentType
            for (name, value) in reply.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        let logger = logger
        return Application(
            responder: responder,
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 20))) { (head: HTTPRequest, channel: any Channel, _: Logger) in
                if head.path == SimHTTPServer.webSocketAPIPath {
                    return .upgrade([:]) { inbound, outbound, _ in
                        try await Self.serveWebSocketAPI(simulator: simulator, inbound: inbound, outbound: outbound)
                    }
                }
                guard let subscription = simulator.streamSubscription(path: head.path ?? "/") else { return .dontUpgrade }
                if let stall = simulator.streamUpgradeStall() {
                    try? await Task.sleep(for: .milliseconds(stall))
                    return .dontUpgrade
                }
                // Subscribed before the handshake is answered, as on Binance: an event published
                // the moment the client sees its connection up (a fill right after a user data
                // stream reconnects) must reach it. Closing the connection ends the subscription,
                // also when the upgrade never completes.
                let (id, messages) = simulator.broadcaster.subscribe(
                    streams: subscription.streams, combined: subscription.combined, userData: subscription.userData)
                channel.closeFuture.whenComplete { _ in simulator.broadcaster.unsubscribe(id) }
                return .upgrade([:]) { inbound, outbound, _ in
                    defer { simulator.broadcaster.unsubscribe(id) }
                    // Reading keeps pings answered and notices a client that closes; writing
                    // forwards the subscription's messages until the simulator drops us.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await _ in inbound.messages(maxSize: 1 << 16) {}
                        }
                        group.addTask {
                            for await text in messages { try await outbound.writeTextMessage(text) }
                            await closeDropped(outbound)
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "BinanceSim"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// Runs the server in a new task and returns once it listens: the bound port (a free one
    /// when `port` is 0) and the task, which stops the server when cancelled.
    public func start() async throws(GordonError) -> (port: Int, task: Task<Void, any Error>) {
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = application(onRunning: { port in
            portSink.yield(port)
            portSink.finish()
        })
        let task = Task {
            defer { portSink.finish() }
            try await app.run()
        }
        guard let bound = await ports.first(where: { _ in true }), bound > 0 else {
            task.cancel()
            throw GordonError(.exchangeUnavailable, "the simulator did not start listening", context: ["host": host, "port": "\(port)"])
        }
        return (bound, task)
    }

    static let webSocketAPIPath = "/ws-api/v3"

    /// One WebSocket API connection: each request frame is answered in order, and a user data
    /// subscription adds the account's events to the same outgoing queue.
    private static func serveWebSocketAPI(simulator: BinanceSimulator, inbound: WebSocketInboundStream,
                                          outbound: WebSocketOutboundWriter) async throws {
        let (id, messages) = simulator.broadcaster.subscribe(streams: [], combined: false, userData: false)
        defer { simulator.broadcaster.unsubscribe(id) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var session = SimWebSocketAPISession(connection: id)
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    guard case .text(let frame) = message else { continue }
                    simulator.broadcaster.send(simulator.webSocketAPIReply(to: frame, session: &session), to: id)
                }
            }
            group.addTask {
                for await text in messages { try await outbound.writeTextMessage(text) }
                await closeDropped(outbound)
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// A connection the simulator drops is closed with a close frame, as Binance closes one. Only
/// ending the writer is not enough: the reader stays parked in the inbound iterator, which
/// does not answer cancellation, until the client's next frame (its next ping, up to 30 s
/// later), and all that time the client believes it is connected.
/// (Cancelled: the client went first, nothing is left to close.)
private func closeDropped(_ outbound: WebSocketOutboundWriter) async {
    guard !Task.isCancelled else { return }
    try? await outbound.close(.normalClosure, reason: "dropped")
}
