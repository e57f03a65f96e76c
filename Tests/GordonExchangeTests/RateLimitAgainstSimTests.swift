import BinanceSim
import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// The client's limiter against the simulator's enforcement of the same published limits.
@Suite("Rate limits against BinanceSim")
struct RateLimitAgainstSimTests {
    /// Per-second windows keep the test short; Binance's are per minute, same arithmetic.
    static let tightRules = [
        RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "SECOND", intervalNum: 1, limit: 60),
        RateLimitRule(rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 1000),
    ]

    @Test("a burst from many callers never exceeds the limit and never draws a 429")
    func burst() async throws {
        try await withSim(rateLimits: Self.tightRules) { sim in
            let client = try sim.client()
            _ = try await client.exchangeInfo()  // loads the simulator's rules into the limiter
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<8 {
                    group.addTask {
                        for call in 0..<25 {
                            if (caller + call) % 3 == 0 {
                                _ = try await client.klines(symbol: SimHarness.symbol, interval: .oneMinute, limit: 5)  // weight 2
                            } else {
                                try await client.ping()  // weight 1
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let log = sim.simulator.requestLog
            #expect(log.count >= 201)
            #expect(!log.contains { $0.status == 429 || $0.status == 418 })
            let weight = try #require(sim.simulator.rateLimitPeaks.first { $0.rule.rateLimitType == "REQUEST_WEIGHT" })
            #expect(weight.peak <= 60)
            #expect(weight.peak >= 40)  // the limiter used the window, not a trickle
        }
    }

    @Test("a 429 makes every caller wait out Retry-After")
    func tooManyRequests() async throws {
        try await withSim { sim in
            let client = try sim.client()
            sim.simulator.updateFaults {
                $0.tooManyRequests = 1
                $0.retryAfterSeconds = 2
            }
            let refused = await #expect(throws: GordonError.self) { try await client.ping() }
            #expect(refused?.code == .exchangeRateLimited)
            let refusedAt = try #require(sim.simulator.requestLog.last).serverTime
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await client.ping() } }
                try await group.waitForAll()
            }
            let after = sim.simulator.requestLog.filter { $0.serverTime > refusedAt || $0.status == 200 }
            #expect(after.count == 4)
            #expect(after.allSatisfy { $0.serverTime - refusedAt >= 1900 && $0.status == 200 })
        }
    }

    @Test("a 418 stops every request until the ban expires")
    func ban() async throws {
        try await withSim { sim in
            let client = try sim.client()
            sim.simulator.updateFaults {
                $0.bans = 1
                $0.banSeconds = 2
            }
            let first = await #expect(throws: GordonError.self) { try await client.ping() }
            #expect(first?.code == .exchangeBanned)
            let seen = sim.simulator.requestLog.count
            for _ in 0..<5 {
                let again = await #expect(throws: GordonError.self) { _ = try await client.account() }
                #expect(again?.code == .exchangeBanned)
            }
            #expect(sim.simulator.requestLog.count == seen)  // nothing was sent during the ban
            let cleared = try await eventuallyPings(client, within: .seconds(6))
            #expect(cleared)
        }
    }

    @Test("the simulator refuses a client that does not know the limits, and the client then holds back")
    func simulatorEnforces() async throws {
        // A day window: its Retry-After is far beyond the client's longest wait, so the
        // client refuses locally instead of sleeping.
        try await withSim(rateLimits: [RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "DAY", intervalNum: 1, limit: 10)],
                          banAfterViolations: 2) { sim in
            // The client's limiter is deliberately not told the limits (no exchangeInfo call)…
            let client = try sim.client()
            var codes: [ErrorCode] = []
            for _ in 0..<16 {
                do { try await client.ping() } catch let error as GordonError { codes.append(error.code) }
            }
            // …so the simulator refuses with 429 first; the client then stops sending.
            #expect(codes.first == .exchangeRateLimited)
            #expect(sim.simulator.requestLog.filter { $0.status == 429 }.count >= 1)
            #expect(sim.simulator.requestLog.filter { $0.status == 200 }.count == 10)
        }
    }

    private func eventuallyPings(_ client: BinanceRESTClient, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            do {
                try await client.ping()
                return true
            } catch where error.code == .exchangeBanned {
                try await Task.sleep(for: .milliseconds(100))  // poll interval, bounded by the deadline
            }
        }
        return false
    }
}
