import AsyncHTTPClient
import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonManager
import GordonNATS
import GordonProtocol
import GordonTestDB
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PostgresNIO
import Synchronization
import Testing
import WSClient

extension ManagerProcessTests {
    static let consoleHeaders = ["Authorization": "Bearer \(World.consoleToken)", "X-Gordon-Operator": "alice@example.org"]

    static func call(_ method: HTTPMethod, _ url: String, headers: [String: String], body: String? = nil) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    @Test("the console's loopback port wants the console's credential and the user it acts for; its calls are audited as console.<user>")
    func consolePort() async throws {
        try await withWorld { world, admin in
            try await world.startRisk()
            try await world.startManager(console: true)
            #expect(world.manager!.stdout.contains("console API on http://127.0.0.1:"))
            let base = "http://127.0.0.1:\(try await world.announcedPort(world.manager!, after: "console API on "))/api/v1"

            let (bare, bareBody) = try await Self.call(.GET, base + "/status", headers: [:])
            #expect(bare == 403 && bareBody.contains("GORDON-MGR-0007"), "\(bareBody)")
            let wrongHeaders = ["Authorization": "Bearer not-the-token", "X-Gordon-Operator": "alice"]
            let (wrong, _) = try await Self.call(.GET, base + "/bots", headers: wrongHeaders)
            #expect(wrong == 403)
            let (nameless, namelessBody) = try await Self.call(.GET, base + "/bots", headers: ["Authorization": "Bearer \(World.consoleToken)"])
            #expect(nameless == 400 && namelessBody.contains("X-Gordon-Operator"), "\(namelessBody)")

            // A wrong credential changes nothing.
            let (refused, _) = try await Self.call(.POST, base + "/resume", headers: wrongHeaders, body: "{\"reason\":\"let me\"}")
            #expect(refused == 403)
            let filed = try await admin.query("SELECT count(*) FROM trading.operator_requests", logger: testLogger).collect().first!.decode(Int.self)
            #expect(filed == 0)
            #expect(try await Self.halted(admin))

            let (read, status) = try await Self.call(.GET, base + "/status", headers: Self.consoleHeaders)
            #expect(read == 200 && status.contains("\"halted\":true") && status.contains("\"equity\":"), "\(status)")
            let (resumed, outcome) = try await Self.call(.POST, base + "/resume", headers: Self.consoleHeaders, body: "{\"reason\":\"checked from the console\"}")
            #expect(resumed == 200, "\(outcome)")
            #expect(try await !Self.halted(admin))
            let audit = try await Self.lastAudit(admin)
            #expect(audit?.0 == "operator:console.alice@example.org" && audit?.1 == "resume" && audit?.3 == "checked from the console",
                    "\(String(describing: audit))")
            // The socket still serves gordonctl beside it.
            let screen = try await world.ctl(["status"])
            #expect(screen.status == 0, "\(screen.stderr)")
        }
    }

    @Test("live events reach each subscriber in order; one that stops reading is dropped and the others keep up; a bad payload is not passed on")
    func liveEvents() async throws {
        try await withWorld { world, admin in
            try await world.startManager(console: true, liveQueue: 256)
            let port = try await world.announcedPort(world.manager!, after: "console API on ")
            let metricsURL = "http://127.0.0.1:\(try await world.announcedPort(world.manager!, after: "gordon-manager listening on "))/metrics"
            func metric(_ name: String) async throws -> Double? {
                let (_, text) = try await Self.call(.GET, metricsURL, headers: [:])
                return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }
            let nats = try await NATSClient.connect(try NATSClientOptions(urls: [world.natsURL], name: "live-events-test"), logger: testLogger)
            defer { Task { await nats.close() } }
            let jetStream = JetStream(client: nats)
            // The feed reads from events published after its consumer exists.
            #expect(try await eventually { (try? await jetStream.consumerInfo(stream: GordonStream.name, name: LiveEventFeed.durableName)) != nil })

            let url = "ws://127.0.0.1:\(port)/api/v1/events"
            var headers = HTTPFields()
            for (name, value) in Self.consoleHeaders { headers[HTTPField.Name(name)!] = value }
            var wrongHeaders = headers
            wrongHeaders[.authorization] = "Bearer not-the-token"
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: url + "?topics=bots", configuration: .init(additionalHeaders: wrongHeaders), logger: testLogger) { _, _, _ in }
            }
            let (notUpgraded, body) = try await Self.call(.GET, "http://127.0.0.1:\(port)/api/v1/events?topics=klines", headers: Self.consoleHeaders)
            #expect(notUpgraded == 400 && body.contains("topics must be"), "\(body)")

            // The equity's first figure comes at once: allocations of 100 and 50, nothing held.
            try await admin.query("UPDATE trading.bot_configs SET max_quote_exposure = CASE bot_id WHEN 'alpha' THEN 100 ELSE 50 END", logger: testLogger)
            let equity = Mutex<String?>(nil)
            try await WebSocketClient.connect(url: url + "?topics=equity", configuration: .init(additionalHeaders: headers), logger: testLogger) { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    equity.withLock { $0 = text }
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
            }
            let frame = try JSONSerialization.jsonObject(with: Data((equity.withLock { $0 } ?? "{}").utf8)) as? [String: Any]
            #expect(frame?["topic"] as? String == "equity")
            #expect((frame?["equity"] as? [String: Any])?["equity"] as? String == "150", "\(String(describing: frame))")

            // One client reads everything; another connects and never reads a byte. Events go
            // out in waves no larger than a client's queue, each read before the next: the
            // reader is never behind by more than its bound, while the other falls behind by
            // more than the kernel's buffers hold.
            let total = 10_000  // about 7 MB: more than a loopback socket's send buffer grows to (4 MB)
            let received = Received()
            let reader = Task {
                try await WebSocketClient.connect(url: url + "?topics=bots", configuration: .init(additionalHeaders: headers), logger: testLogger) { inbound, outbound, _ in
                    received.subscribed()
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message else { continue }
                        if received.append(text) == total {
                            try await outbound.close(.normalClosure, reason: nil)
                            return
                        }
                    }
                }
            }
            defer { reader.cancel() }
            let stalled = try await Self.connectWithoutReading(port: port)
            defer { stalled.close(promise: nil) }
            #expect(try await eventually { received.isSubscribed })
            #expect(try await eventually { try await metric("gordon_manager_live_subscribers") == 2 })

            let published = try await Self.publishInWaves(total, of: 200, to: jetStream, readBy: received)
            let droppedSoFar = try await metric("gordon_manager_live_dropped")
            #expect(published == total, "the reader has \(received.count) after \(published); dropped \(String(describing: droppedSoFar))")
            let texts = received.texts
            let inOrder = texts.enumerated().allSatisfy { index, text in
                text.hasPrefix("{\"topic\":\"bots\",\"subject\":\"gordon.bot.lifecycle.alpha\"") && text.contains("\"n=\(index) x")
            }
            #expect(texts.count == total && inOrder, "\(texts.prefix(3))")
            #expect(try await eventually { try await metric("gordon_manager_live_dropped") == 1 })
            #expect(try await metric("gordon_manager_live_malformed") == 1)
            #expect(try await eventually { try await metric("gordon_manager_live_subscribers") == 0 })
        }
    }

    /// What the reading client received.
    final class Received: Sendable {
        private let state = Mutex((texts: [String](), subscribed: false))
        func subscribed() { state.withLock { $0.subscribed = true } }
        var isSubscribed: Bool { state.withLock { $0.subscribed } }
        func append(_ text: String) -> Int {
            state.withLock { state in
                state.texts.append(text)
                return state.texts.count
            }
        }
        var count: Int { state.withLock { $0.texts.count } }
        var texts: [String] { state.withLock { $0.texts } }
    }

    /// `total` bot lifecycle events (reason `n=<index>` and padding), in waves of `wave`, each read by the
    /// reader before the next goes out; a payload that is not an event halfway. Returns how
    /// many went out before the reader fell behind (`total` if it never did).
    static func publishInWaves(_ total: Int, of wave: Int, to jetStream: JetStream, readBy received: Received) async throws -> Int {
        let ids = EventIdGenerator(clock: EventIdGenerator.systemClock, random: SystemRandomNumberGenerator())
        let codec = EventCodec()
        let bot = try BotId("alpha")
        let padding = String(repeating: "x", count: 240)
        for index in 0..<total {
            if index == total / 2 {
                _ = try await jetStream.publish(Array("not an event".utf8), to: "gordon.bot.lifecycle.alpha")
            }
            let event = try BotLifecycleEvent(botId: bot, state: .running, instanceId: "host:1", reason: "n=\(index) " + padding,
                                              at: Timestamp(milliseconds: 1_700_000_000_000 + Int64(index)))
            let envelope = EventEnvelope(payload: event, source: .bot, traceId: .random(), occurredAt: event.at, ids: ids)
            _ = try await jetStream.publishAsync(try codec.encode(envelope), to: event.subject.string)
            if (index + 1) % wave == 0 {
                await jetStream.publishAsyncComplete()
                guard try await eventually({ received.count == index + 1 }) else { return index + 1 }
            }
        }
        return total
    }

    /// A WebSocket client that sends its upgrade and then reads nothing: its receive window
    /// fills, and the manager's writes to it stop.
    static func connectWithoutReading(port: Int) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.autoRead, value: false)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port).get()
        let request = "GET /api/v1/events?topics=bots HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Authorization: Bearer \(World.consoleToken)\r\nX-Gordon-Operator: stalled\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        return channel
    }
}
