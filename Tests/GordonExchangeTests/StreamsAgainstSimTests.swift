import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Synchronization
import Testing

/// Market and user data streams against BinanceSim's WebSocket server.
@Suite("Streams against BinanceSim")
struct StreamsAgainstSimTests {
    /// Collects a stream's outputs for assertions.
    final class Collected<Output: Sendable>: Sendable {
        private let items = Mutex<[Output]>([])
        func append(_ item: Output) { items.withLock { $0.append(item) } }
        var all: [Output] { items.withLock { $0 } }
    }

    /// Short backoffs, and pings every second: a connection whose server side has gone
    /// silent (seen under load: upgraded, then neither serving nor answering pings) is
    /// replaced within two seconds, as the client's liveness check promises, rather than
    /// after the 30 s a test waits.
    static let fastPolicy = StreamConnectionPolicy(initialBackoff: .milliseconds(50), maximumBackoff: .milliseconds(400),
                                                   pingInterval: .seconds(1))

    @Test("dropped connections mid-stream: every closed kline exactly once, in order")
    func dropsLoseNothing() async throws {
        try await withSim(klines: 3000, preload: 500) { sim in
            let client = try sim.client()
            let key = KlineSeriesKey(symbol: SimHarness.symbol, interval: .oneMinute)
            let resume = try #require(try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, limit: 1).last)
            let stream = BinanceMarketStream(
                streams: [.kline(SimHarness.symbol, .oneMinute), .aggTrade(SimHarness.symbol), .bookTicker(SimHarness.symbol)],
                rest: client, resumeFrom: [key: resume.openTime.milliseconds], policy: Self.fastPolicy)
            let closed = Collected<Kline>()
            let runner = Task { await stream.run { output in if case .closedKline(let kline) = output { closed.append(kline) } } }
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { sim.simulator.streamConnectionCount == 1 })

            var published: [Kline] = []
            for round in 0..<6 {
                published += sim.simulator.advance(steps: 20)  // delivered live
                if round % 2 == 0 {
                    sim.simulator.dropStreamConnections()
                    published += sim.simulator.advance(steps: 15)  // published while nobody listens
                } else {
                    sim.simulator.dropStreamConnections()
                }
                #expect(try await eventually(timeout: .seconds(30)) { sim.simulator.streamConnectionCount == 1 },
                        "round \(round): \(sim.simulator.streamConnectionCount) server connections, \(stream.counters)")
            }
            published += sim.simulator.advance(steps: 10)
            let expected = published.map(\.openTime)
            #expect(try await eventually(timeout: .seconds(30)) { closed.all.count >= expected.count })
            let delivered = closed.all.map(\.openTime)
            #expect(delivered == expected)
            #expect(Set(delivered).count == delivered.count)
            #expect(stream.counters.drops >= 6)
            #expect(stream.counters.backfilledKlines >= 45)
            #expect(stream.counters.malformed == 0)
        }
    }

    @Test("a server that accepts the connection and stalls the upgrade is left behind for a new connection")
    func stalledUpgrade() async throws {
        try await withSim(klines: 2000, preload: 100) { sim in
            // The stall outlasts the wait below: delivery within it proves the client moved on.
            sim.simulator.updateFaults { $0.stalledStreamUpgrades = 1; $0.upgradeStallMilliseconds = 15_000 }
            let client = try sim.client()
            let policy = StreamConnectionPolicy(initialBackoff: .milliseconds(50), maximumBackoff: .milliseconds(400),
                                                connectTimeout: .seconds(1))
            let stream = BinanceMarketStream(streams: [.kline(SimHarness.symbol, .oneMinute)], rest: client, policy: policy)
            let closed = Collected<Kline>()
            let runner = Task { await stream.run { output in if case .closedKline(let kline) = output { closed.append(kline) } } }
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(10)) { sim.simulator.streamConnectionCount == 1 })
            let published = sim.simulator.advance(steps: 3)
            #expect(try await eventually(timeout: .seconds(10)) { closed.all.last?.openTime == published.last?.openTime })
            #expect(sim.simulator.faults.stalledStreamUpgrades == 0)
            #expect(stream.counters.drops >= 1)
            #expect(stream.counters.connections >= 1)
        }
    }

    @Test("a planned rollover overlaps connections without duplicates")
    func plannedRollover() async throws {
        try await withSim(klines: 2000, preload: 100) { sim in
            let client = try sim.client()
            let policy = StreamConnectionPolicy(initialBackoff: .milliseconds(50), maximumBackoff: .milliseconds(400),
                                                plannedLifetime: .milliseconds(700))
            let stream = BinanceMarketStream(streams: [.kline(SimHarness.symbol, .oneMinute), .aggTrade(SimHarness.symbol)],
                                             rest: client, policy: policy)
            let closed = Collected<Kline>()
            let trades = Collected<AggregateTrade>()
            let runner = Task {
                await stream.run { output in
                    switch output {
                    case .closedKline(let kline): closed.append(kline)
                    case .aggTrade(let trade): trades.append(trade)
                    default: break
                    }
                }
            }
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { sim.simulator.streamConnectionCount >= 1 })
            // One kline at a time, each published once the previous one has arrived, until two
            // rollovers have happened mid-stream and ten more klines have followed the last.
            var published: [Kline] = []
            var afterSecondRollover = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while afterSecondRollover < 10, ContinuousClock.now < deadline {
                published += sim.simulator.advance(steps: 1)
                #expect(try await eventually(timeout: .seconds(30)) { closed.all.last?.openTime == published.last?.openTime })
                if stream.counters.plannedRollovers >= 2 { afterSecondRollover += 1 }
            }
            #expect(stream.counters.plannedRollovers >= 2)
            #expect(try await eventually(timeout: .seconds(30)) { closed.all.last?.openTime == published.last?.openTime })
            let delivered = closed.all.map(\.openTime)
            let first = try #require(delivered.first)
            let expected = published.map(\.openTime).drop { $0 < first }
            #expect(delivered == Array(expected))
            let tradeIds = trades.all.map(\.aggregateTradeId)
            #expect(tradeIds == tradeIds.sorted() && Set(tradeIds).count == tradeIds.count)
        }
    }

    /// A user data stream running in its own task, and everything it delivered.
    static func startUserData(_ client: BinanceRESTClient, transport: UserDataTransport)
        -> (stream: BinanceUserDataStream, events: Collected<UserDataOutput>, runner: Task<Void, Never>) {
        let stream = BinanceUserDataStream(rest: client, transport: transport, policy: fastPolicy)
        let events = Collected<UserDataOutput>()
        return (stream, events, Task { await stream.run { events.append($0) } })
    }

    @Test("user data stream: execution reports and balances match REST", arguments: [UserDataTransport.webSocketAPI, .listenKey])
    func userDataMatchesREST(transport: UserDataTransport) async throws {
        try await withSim { sim in
            let client = try sim.client()
            let (_, events, runner) = Self.startUserData(client, transport: transport)
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { events.all.count == 1 && sim.simulator.streamConnectionCount == 1 })

            let price = try await client.tickerPrice(symbol: SimHarness.symbol)
            let market = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .market,
                                                               quantity: Quantity(parsing: "0.05"), clientOrderId: newClientOrderId("ud-m")))
            let low = try Price(price.value.multiplied(by: ExactDecimal(significand: 5, scale: 1)).rounded(scale: 2, rule: .down))
            let rest = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .buy, type: .limit, timeInForce: .gtc,
                                                             quantity: Quantity(parsing: "0.01"), price: low, clientOrderId: newClientOrderId("ud-r")))
            let canceled = try await client.cancelOrder(symbol: SimHarness.symbol, clientOrderId: ClientOrderId(rest.clientOrderId))
            let ids = [market.clientOrderId, rest.clientOrderId]

            func reports() -> [ExecutionReport] {
                events.all.compactMap { if case .event(.executionReport(let report)) = $0 { report } else { nil } }
            }
            #expect(try await eventually(timeout: .seconds(30)) {
                reports().contains { $0.clientOrderId == market.clientOrderId && $0.orderStatus == .filled }
                    && reports().contains { $0.clientOrderId == rest.clientOrderId && $0.orderStatus == .canceled }
            })
            for id in ids {
                let last = try #require(reports().last { $0.clientOrderId == id })
                let queried = try await client.queryOrder(symbol: SimHarness.symbol, clientOrderId: ClientOrderId(id))
                #expect(last.orderStatus.rawValue == queried.status)
                #expect(last.cumulativeFilledQuantity == (try queried.executedQuantity)?.value)
                #expect(last.cumulativeQuoteQuantity == (try queried.cumulativeQuoteQuantity))
                #expect(last.orderId == queried.orderId)
            }
            #expect(canceled.status == "CANCELED")
            let fills = reports().filter { $0.executionType == "TRADE" && $0.clientOrderId == market.clientOrderId }
            #expect(fills.count == market.fills?.count)

            // The last balance each asset was reported at is the account's balance now.
            var streamed: [Asset: (ExactDecimal, ExactDecimal)] = [:]
            for case .event(.accountPosition(let position)) in events.all {
                for balance in position.balances { streamed[balance.asset] = (balance.free, balance.locked) }
            }
            let account = try await client.account().domainBalances()
            #expect(!streamed.isEmpty)
            for (asset, (free, locked)) in streamed {
                let balance = try #require(account.first { $0.asset == asset })
                #expect(balance.free == free && balance.locked == locked)
            }
            #expect(events.all.first == .resynchronize)
        }
    }

    @Test("a dropped user data connection reconnects and asks the consumer to resynchronise",
          arguments: [UserDataTransport.webSocketAPI, .listenKey])
    func userDataReconnect(transport: UserDataTransport) async throws {
        try await withSim { sim in
            let client = try sim.client()
            let (_, events, runner) = Self.startUserData(client, transport: transport)
            defer { runner.cancel() }
            // Up means subscribed: the consumer has been told to resynchronise once.
            #expect(try await eventually(timeout: .seconds(30)) { events.all.count == 1 && sim.simulator.streamConnectionCount == 1 })
            sim.simulator.dropStreamConnections()
            #expect(try await eventually(timeout: .seconds(30)) { events.all.filter { $0 == .resynchronize }.count == 2 })
            _ = try await client.placeOrder(NewOrder(symbol: SimHarness.symbol, side: .sell, type: .market,
                                                      quantity: Quantity(parsing: "0.01"), clientOrderId: newClientOrderId("ud-2")))
            #expect(try await eventually(timeout: .seconds(30)) {
                events.all.contains { if case .event(.executionReport(let r)) = $0 { r.orderStatus == .filled } else { false } }
            })
        }
    }

    @Test("a refused WebSocket API subscription never counts as connected and is retried")
    func userDataSubscriptionRefused() async throws {
        try await withSim { sim in
            let client = try sim.client(secret: Secret("not-the-secret-the-simulator-knows"))
            let (stream, events, runner) = Self.startUserData(client, transport: .webSocketAPI)
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { stream.counters.drops >= 2 })
            #expect(stream.counters.connections == 0)
            #expect(events.all.isEmpty)
        }
    }

    @Test("a subscription refused for clock skew resynchronises the clock and succeeds")
    func userDataSubscriptionResyncsClock() async throws {
        try await withSim { sim in
            let client = try sim.client(recvWindow: 2000)
            try await client.synchronizeClock()
            sim.simulator.updateFaults { $0.clockSkewMilliseconds = 30_000 }
            let (stream, events, runner) = Self.startUserData(client, transport: .webSocketAPI)
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) { events.all.first == .resynchronize })
            #expect(stream.counters.drops >= 1)
            #expect(abs(client.serverNowMilliseconds - sim.simulator.serverTime) < 2000)
        }
    }
}
