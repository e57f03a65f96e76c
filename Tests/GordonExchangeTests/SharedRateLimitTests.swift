import BinanceSim
import Foundation
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Testing

/// Issue 14, item 4: the per-IP limits shared across processes, the cancel reserve, and the
/// WebSocket API's 429/418 and counts feeding the same limiter.
@Suite("Rate limits shared across processes, cancel reserve, WebSocket API limits")
struct SharedRateLimitTests {
    static let t0: Int64 = 1_704_067_200_000
    static let weight100 = RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 100)

    // MARK: The plain values

    @Test("cancels keep a reserved share of the per-IP weight that other requests cannot use")
    func cancelReserve() {
        var state = RateLimitState(rules: [Self.weight100], safetyMargin: 0, cancelReserve: 0.1)
        #expect(state.admit(weight: 90, isOrder: false, now: Self.t0) == .proceed)
        guard case .wait = state.admit(weight: 1, isOrder: false, now: Self.t0) else {
            Issue.record("a normal request used the cancel reserve")
            return
        }
        for _ in 0..<10 { #expect(state.admit(weight: 1, isOrder: false, priority: .cancel, now: Self.t0) == .proceed) }
        guard case .wait = state.admit(weight: 1, isOrder: false, priority: .cancel, now: Self.t0) else {
            Issue.record("a cancel went past the limit")
            return
        }
    }

    @Test("the ORDERS limit has no cancel reserve: Binance does not count cancels there")
    func noReserveOnOrders() {
        let orders = RateLimitRule(rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 10)
        var state = RateLimitState(rules: [orders], safetyMargin: 0, cancelReserve: 0.5)
        for _ in 0..<10 { #expect(state.admit(weight: 1, isOrder: true, now: Self.t0) == .proceed) }
    }

    @Test("the WebSocket API's rateLimits counts are merged like the REST headers")
    func webSocketCounts() {
        var state = RateLimitState(rules: [Self.weight100], safetyMargin: 0, cancelReserve: 0)
        state.observe(counts: [(Self.weight100, 95)], now: Self.t0)
        #expect(state.admit(weight: 5, isOrder: false, now: Self.t0) == .proceed)
        guard case .wait = state.admit(weight: 1, isOrder: false, now: Self.t0) else {
            Issue.record("the server's count was ignored")
            return
        }
    }

    @Test("a WebSocket API retryAfter is an instant: honoured as given, clamped to three days, never in the past")
    func webSocketRetryAfter() {
        var state = RateLimitState(rules: [Self.weight100])
        state.observeBan(retryAtMs: Self.t0 + 90_000, now: Self.t0)
        #expect(state.admit(weight: 1, isOrder: false, now: Self.t0 + 89_999) == .banned(untilMs: Self.t0 + 90_000))
        #expect(state.admit(weight: 1, isOrder: false, now: Self.t0 + 90_000) == .proceed)

        var hostile = RateLimitState(rules: [Self.weight100])
        hostile.observeBan(retryAtMs: .max, now: Self.t0)
        #expect(hostile.status(now: Self.t0).bannedUntilMs == Self.t0 + 3 * 86_400_000)
        hostile.observeTooManyRequests(retryAtMs: .min, now: Self.t0)
        #expect(hostile.status(now: Self.t0).backoffUntilMs == nil)
    }

    @Test("the shared record round-trips, skips what it cannot read, and merges to the later ban and the newer window")
    func sharedRecord() {
        let record = SharedRateLimits(bannedUntilMs: Self.t0 + 5000, backoffUntilMs: nil, counts: [
            .init(rateLimitType: "REQUEST_WEIGHT", windowMs: 60_000, windowStartMs: Self.t0, used: 40),
        ])
        #expect(SharedRateLimits(parsing: record.text) == record)
        let garbled = record.text + "count REQUEST_WEIGHT x y z\nbanned_until 99999999999999999999999\n\u{0}\u{1}\nbackoff_until\n"
        #expect(SharedRateLimits(parsing: garbled) == record)
        #expect(SharedRateLimits(parsing: "not our file\nbanned_until 5\n") == SharedRateLimits())

        let other = SharedRateLimits(bannedUntilMs: Self.t0 + 9000, backoffUntilMs: Self.t0 - 1, counts: [
            .init(rateLimitType: "REQUEST_WEIGHT", windowMs: 60_000, windowStartMs: Self.t0, used: 70),
            .init(rateLimitType: "RAW_REQUESTS", windowMs: 300_000, windowStartMs: Self.t0 - 600_000, used: 9),
        ])
        let merged = record.merged(with: other, now: Self.t0 + 1)
        #expect(merged.bannedUntilMs == Self.t0 + 9000)
        #expect(merged.backoffUntilMs == nil)  // already over
        #expect(merged.counts == [.init(rateLimitType: "REQUEST_WEIGHT", windowMs: 60_000, windowStartMs: Self.t0, used: 70)])
    }

    @Test("one state adopts another's ban and current counts through the shared record")
    func stateMerge() {
        var first = RateLimitState(rules: [Self.weight100], safetyMargin: 0, cancelReserve: 0)
        var second = RateLimitState(rules: [Self.weight100], safetyMargin: 0, cancelReserve: 0)
        #expect(first.admit(weight: 80, isOrder: false, now: Self.t0) == .proceed)
        second.merge(first.shared(now: Self.t0), now: Self.t0)
        guard case .wait = second.admit(weight: 21, isOrder: false, now: Self.t0) else {
            Issue.record("the other process's count was not adopted")
            return
        }
        first.observeBan(retryAfterSeconds: 60, now: Self.t0)
        second.merge(first.shared(now: Self.t0), now: Self.t0)
        #expect(second.admit(weight: 1, isOrder: false, now: Self.t0 + 1) == .banned(untilMs: Self.t0 + 60_000))
    }

    // MARK: Two clients, one shared file, the simulator

    static func sharedPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gordon-limits-\(UUID().uuidString)").path
    }

    func client(_ sim: SimHarness, sharedPath: String) throws -> BinanceRESTClient {
        var configuration = try BinanceClientConfiguration(
            endpoint: sim.endpoint, credentials: try BinanceCredentials(apiKey: Secret(SimHarness.apiKey), secretKey: SimHarness.secretKey))
        configuration.sharedRateLimitPath = sharedPath
        return BinanceRESTClient(configuration: configuration)
    }

    @Test("a 418 seen by one process stops the other before it sends anything")
    func banCrossesProcesses() async throws {
        let path = Self.sharedPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withSim { sim in
            let data = try client(sim, sharedPath: path)
            let executor = try client(sim, sharedPath: path)
            sim.simulator.updateFaults {
                $0.bans = 1
                $0.banSeconds = 60
            }
            let first = await #expect(throws: GordonError.self) { try await data.ping() }
            #expect(first?.code == .exchangeBanned)
            let seen = sim.simulator.requestLog.count
            let second = await #expect(throws: GordonError.self) { try await executor.ping() }
            #expect(second?.code == .exchangeBanned)
            #expect(sim.simulator.requestLog.count == seen)  // the executor sent nothing during the ban
        }
    }

    @Test("a 429 seen by one process makes the other wait out Retry-After before it sends")
    func backoffCrossesProcesses() async throws {
        let path = Self.sharedPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withSim { sim in
            let data = try client(sim, sharedPath: path)
            let executor = try client(sim, sharedPath: path)
            sim.simulator.updateFaults {
                $0.tooManyRequests = 1
                $0.retryAfterSeconds = 120  // past the executor's 30 s longest wait: it must refuse, not sleep
            }
            let first = await #expect(throws: GordonError.self) { try await data.ping() }
            #expect(first?.code == .exchangeRateLimited)
            let seen = sim.simulator.requestLog.count
            let second = await #expect(throws: GordonError.self) { try await executor.ping() }
            #expect(second?.code == .exchangeRateLimited)
            #expect(sim.simulator.requestLog.count == seen)
        }
    }

    @Test("a shared file that cannot be opened leaves each process limiting on its own")
    func unusableSharedFile() async throws {
        try await withSim { sim in
            let client = try client(sim, sharedPath: "/proc/gordon-cannot-create-this")
            try await client.ping()
            #expect(sim.simulator.requestLog.count == 1)
        }
    }

    @Test("a 418 on the WebSocket API bans the REST client of the same process")
    func webSocketBanReachesTheLimiter() async throws {
        try await withSim { sim in
            let client = try sim.client()
            sim.simulator.updateFaults {
                $0.bans = 1
                $0.banSeconds = 60
            }
            let (_, _, runner) = StreamsAgainstSimTests.startUserData(client, transport: .webSocketAPI)
            defer { runner.cancel() }
            #expect(try await eventually(timeout: .seconds(30)) {
                await client.limiter.status(now: Int64(Date().timeIntervalSince1970 * 1000)).bannedUntilMs != nil
            })
            let seen = sim.simulator.requestLog.count
            let refused = await #expect(throws: GordonError.self) { try await client.ping() }
            #expect(refused?.code == .exchangeBanned)
            #expect(sim.simulator.requestLog.count == seen)
        }
    }
}
