import GordonKernel
import Foundation
import GordonExchange
import Testing

@Suite("RateLimitState")
struct RateLimitStateTests {
    static let minute: Int64 = 60_000
    /// 2024-01-01T00:00:00Z, a whole day: every window boundary falls on it.
    static let t0: Int64 = 1_704_067_200_000

    static func weight(_ limit: Int, per minutes: Int = 1) -> RateLimitRule {
        RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: minutes, limit: limit)
    }

    static func orders(_ limit: Int, perSeconds seconds: Int) -> RateLimitRule {
        RateLimitRule(rateLimitType: "ORDERS", interval: "SECOND", intervalNum: seconds, limit: limit)
    }

    @Test func aRandomBurstNeverExceedsAnyRuleInAnyWindow() {
        let rules = [
            Self.weight(1200),
            Self.orders(10, perSeconds: 1),
            Self.orders(50, perSeconds: 10),
            RateLimitRule(rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: 2000),
            RateLimitRule(rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 1500),
        ]
        var state = RateLimitState(rules: rules, safetyMargin: 0, cancelReserve: 0)
        var random = SplitMix64(seed: 42)
        // Independent count: (rule index, window number) → units counted.
        var counted: [Int: [Int64: Int]] = [:]
        func length(_ rule: RateLimitRule) -> Int64 { rule.windowMilliseconds! }
        // A request admitted this close to a window's end may be counted by the server in
        // the next window, so the model counts it in both, as the limiter does.
        func transit(_ rule: RateLimitRule) -> Int64 { min(1000, length(rule) / 4) }
        func windows(_ rule: RateLimitRule, _ now: Int64) -> Set<Int64> { [now / length(rule), (now + transit(rule)) / length(rule)] }
        func cost(_ rule: RateLimitRule, _ weight: Int, _ isOrder: Bool) -> Int {
            switch rule.rateLimitType {
            case "REQUEST_WEIGHT": weight
            case "RAW_REQUESTS": 1
            default: isOrder ? 1 : 0
            }
        }
        var now = Self.t0 + 12_345
        var proceeded = 0, waited = 0
        for _ in 0..<10_000 {
            now += random.chance(95) ? Int64.random(in: 0...40, using: &random) : Int64.random(in: 0...20_000, using: &random)
            let weight = random.chance(90) ? Int.random(in: 1...20, using: &random) : Int.random(in: 100...300, using: &random)
            let isOrder = random.chance(40)
            let wouldExceed = rules.indices.contains { index in
                let rule = rules[index]
                let c = cost(rule, weight, isOrder)
                return c > 0 && windows(rule, now).contains { counted[index, default: [:]][$0, default: 0] + c > rule.limit }
            }
            switch state.admit(weight: weight, isOrder: isOrder, now: now) {
            case .proceed:
                proceeded += 1
                #expect(!wouldExceed)
                for index in rules.indices {
                    for window in windows(rules[index], now) {
                        counted[index, default: [:]][window, default: 0] += cost(rules[index], weight, isOrder)
                    }
                }
            case .wait(let until, _):
                waited += 1
                #expect(wouldExceed, "waited although every window had room")
                #expect(until > now)
            case .banned, .refused:
                Issue.record("unexpected decision")
            }
        }
        for index in rules.indices {
            for (_, units) in counted[index, default: [:]] { #expect(units <= rules[index].limit) }
        }
        #expect(proceeded > 1000)
        #expect(waited > 1000)
    }

    @Test func rolloverFreesCapacityExactlyAtTheBoundary() {
        var state = RateLimitState(rules: [Self.weight(100)], safetyMargin: 0, cancelReserve: 0)
        let boundary = Self.t0 + 5 * Self.minute
        let decision1 = state.admit(weight: 100, isOrder: false, now: boundary - 30_000)
        #expect(decision1 == .proceed)
        guard case .wait(let until, _) = state.admit(weight: 1, isOrder: false, now: boundary - 1) else {
            Issue.record("a full window admitted more")
            return
        }
        #expect(until == boundary)
        let decision2 = state.admit(weight: 100, isOrder: false, now: boundary)
        #expect(decision2 == .proceed)
        #expect(state.status(now: boundary).usages[0].used == 100)
        #expect(state.status(now: boundary + Self.minute).usages[0].used == 0)
    }

    @Test func theServersHigherCountWins() {
        var state = RateLimitState(rules: RateLimitState.binanceDefaults, safetyMargin: 0, cancelReserve: 0)
        let now = Self.t0 + 10_000
        state.observe(headers: [("x-mbx-used-weight-1m", "5990"), ("x-mbx-used-weight", "5990")], now: now)
        let decision1 = state.admit(weight: 20, isOrder: false, now: now)
        #expect(decision1 == .wait(untilMs: Self.t0 + Self.minute,
                                                                          reason: "REQUEST_WEIGHT 6000/1m used 5990+20 > 6000"))
        let decision2 = state.admit(weight: 10, isOrder: false, now: now + 1)
        #expect(decision2 == .proceed)
        let decision3 = state.admit(weight: 20, isOrder: false, now: Self.t0 + Self.minute)
        #expect(decision3 == .proceed)
    }

    @Test func aLowerServerCountKeepsOurReservations() {
        var state = RateLimitState(rules: [Self.weight(1000)], safetyMargin: 0, cancelReserve: 0)
        let decision1 = state.admit(weight: 300, isOrder: false, now: Self.t0)
        #expect(decision1 == .proceed)
        state.observe(headers: [("X-MBX-USED-WEIGHT-1M", "50")], now: Self.t0 + 5)
        #expect(state.status(now: Self.t0 + 5).usages[0].used == 300)
    }

    @Test func orderCountHeadersFeedTheOrdersRule() {
        var state = RateLimitState(rules: [Self.weight(6000), Self.orders(100, perSeconds: 10)], safetyMargin: 0, cancelReserve: 0)
        state.observe(headers: [("X-MBX-ORDER-COUNT-10S", "100"), ("X-MBX-ORDER-COUNT-1D", "7")], now: Self.t0 + 3000)
        let decision1 = state.admit(weight: 1, isOrder: true, now: Self.t0 + 3001)
        #expect(decision1 == .wait(untilMs: Self.t0 + 10_000,
                                                                                   reason: "ORDERS 100/10s used 100+1 > 100"))
        let decision2 = state.admit(weight: 1, isOrder: false, now: Self.t0 + 3001)
        #expect(decision2 == .proceed)
    }

    @Test func tooManyRequestsMakesEveryoneWaitRetryAfter() {
        var state = RateLimitState()
        let now = Self.t0 + 1234
        state.observeTooManyRequests(retryAfterSeconds: 7, now: now)
        for (weight, isOrder) in [(1, false), (1, true), (50, false)] {
            guard case .wait(let until, _) = state.admit(weight: weight, isOrder: isOrder, now: now + 6999) else {
                Issue.record("admitted during a 429 back-off")
                continue
            }
            #expect(until == now + 7000)
        }
        #expect(state.status(now: now).backoffUntilMs == now + 7000)
        let decision1 = state.admit(weight: 1, isOrder: true, now: now + 7000)
        #expect(decision1 == .proceed)
        #expect(state.status(now: now + 7000).backoffUntilMs == nil)
    }

    @Test func tooManyRequestsWithoutRetryAfterBacksOffTheDefault() {
        var state = RateLimitState()
        state.observeTooManyRequests(retryAfterSeconds: nil, now: Self.t0)
        guard case .wait(let until, _) = state.admit(weight: 1, isOrder: false, now: Self.t0) else {
            Issue.record("admitted during a 429 back-off")
            return
        }
        #expect(until == Self.t0 + RateLimitState.defaultTooManyRequestsBackoffMs)
    }

    @Test func aBanStopsEveryKindOfRequestUntilItExpires() {
        var state = RateLimitState()
        let now = Self.t0 + 500
        state.observeTooManyRequests(retryAfterSeconds: 5, now: now)
        state.observeBan(retryAfterSeconds: 180, now: now)
        let until = now + 180_000
        for probe in [now, now + 5000, until - 1] {
            let decision1 = state.admit(weight: 1, isOrder: false, now: probe)
            #expect(decision1 == .banned(untilMs: until))
            let decision2 = state.admit(weight: 1, isOrder: true, now: probe)
            #expect(decision2 == .banned(untilMs: until))
            let decision3 = state.admit(weight: 100_000, isOrder: false, now: probe)
            #expect(decision3 == .banned(untilMs: until))
        }
        #expect(state.status(now: now).bannedUntilMs == until)
        let decision4 = state.admit(weight: 1, isOrder: true, now: until)
        #expect(decision4 == .proceed)

        var unannounced = RateLimitState()
        unannounced.observeBan(retryAfterSeconds: nil, now: Self.t0)
        #expect(unannounced.admit(weight: 1, isOrder: false, now: Self.t0) == .banned(untilMs: Self.t0 + RateLimitState.defaultBanMs))
    }

    @Test("no value from the network traps: a huge Retry-After, intervalNum, limit or reported count")
    func hostileNumbersNeverTrap() {
        var state = RateLimitState(rules: [
            RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "DAY", intervalNum: Int.max, limit: 10),
            RateLimitRule(rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 6000),
            RateLimitRule(rateLimitType: "RAW_REQUESTS", interval: "MINUTE", intervalNum: 5, limit: Int.max),
        ], safetyMargin: 0)
        #expect(state.rules[0].windowMilliseconds == nil)  // too long to count: not enforced
        #expect(state.admit(weight: 1, isOrder: false, now: Self.t0) == .proceed)
        state.observe(headers: [("X-MBX-USED-WEIGHT-1M", String(Int.max))], now: Self.t0)
        guard case .wait = state.admit(weight: 1, isOrder: false, now: Self.t0) else {
            Issue.record("admitted past a window the server reports full")
            return
        }
        state.observeTooManyRequests(retryAfterSeconds: Int.max, now: Self.t0)
        state.observeBan(retryAfterSeconds: Int.max, now: Self.t0)
        #expect(state.status(now: Self.t0).bannedUntilMs == Self.t0 + 3 * 86_400_000)
        state.observeBan(retryAfterSeconds: Int.min, now: Int64.max - 1)
        #expect(state.status(now: Self.t0).bannedUntilMs == Int64.max - 1)
    }

    @Test func theOrdersLimitIsIndependentOfWeight() {
        var state = RateLimitState(rules: [Self.weight(6000), Self.orders(100, perSeconds: 10)], safetyMargin: 0, cancelReserve: 0)
        let now = Self.t0 + 2000
        for _ in 0..<100 {
            let decision = state.admit(weight: 1, isOrder: true, now: now)
            #expect(decision == .proceed)
        }
        let decision2 = state.admit(weight: 1, isOrder: true, now: now)
        #expect(decision2 == .wait(untilMs: Self.t0 + 10_000, reason: "ORDERS 100/10s used 100+1 > 100"))
        let decision3 = state.admit(weight: 20, isOrder: false, now: now)
        #expect(decision3 == .proceed)
        let decision4 = state.admit(weight: 1, isOrder: true, now: Self.t0 + 10_000)
        #expect(decision4 == .proceed)

        // And the other way round: spent weight blocks orders too, since an order has weight.
        let decision5 = state.admit(weight: 6000 - 121, isOrder: false, now: Self.t0 + 10_000)
        #expect(decision5 == .proceed)
        guard case .wait(let until, _) = state.admit(weight: 1, isOrder: true, now: Self.t0 + 10_000) else {
            Issue.record("an order was admitted with no weight left")
            return
        }
        #expect(until == Self.t0 + Self.minute)
    }

    @Test func aRequestHeavierThanTheLimitIsRefusedNotDelayed() {
        var state = RateLimitState(rules: [Self.weight(6000), Self.orders(100, perSeconds: 10)], safetyMargin: 0.05, cancelReserve: 0)
        guard case .refused(let reason) = state.admit(weight: 5800, isOrder: false, now: Self.t0) else {
            Issue.record("a request over the usable limit was not refused")
            return
        }
        #expect(reason.contains("REQUEST_WEIGHT 6000/1m"))
        let decision1 = state.admit(weight: 5700, isOrder: false, now: Self.t0)
        #expect(decision1 == .proceed)
        #expect(state.status(now: Self.t0).usages[0].capacity == 5700)
        #expect(state.status(now: Self.t0).usages[1].capacity == 95)
        guard case .refused = state.admit(weight: -1, isOrder: false, now: Self.t0) else {
            Issue.record("a negative weight was not refused")
            return
        }
    }

    @Test func replacingRulesKeepsTheCurrentCounts() {
        var state = RateLimitState(rules: [Self.weight(6000)], safetyMargin: 0, cancelReserve: 0)
        let decision1 = state.admit(weight: 1000, isOrder: false, now: Self.t0)
        #expect(decision1 == .proceed)
        state.replaceRules([Self.weight(1200), Self.orders(10, perSeconds: 1)], now: Self.t0 + 1)
        #expect(state.status(now: Self.t0 + 1).usages.map(\.used) == [1000, 0])
        let decision2 = state.admit(weight: 201, isOrder: false, now: Self.t0 + 2)
        #expect(decision2 == .wait(untilMs: Self.t0 + Self.minute,
                                                                                   reason: "REQUEST_WEIGHT 1200/1m used 1000+201 > 1200"))
    }

    @Test func decodesExchangeInfoRateLimits() throws {
        let json = #"[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},"#
            + #"{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100,"count":0}]"#
        let rules = try JSONDecoder().decode([RateLimitRule].self, from: Data(json.utf8))
        #expect(rules == [Self.weight(6000), Self.orders(100, perSeconds: 10)])
        #expect(rules.map(\.windowMilliseconds) == [60_000, 10_000])
        #expect(RateLimitState.binanceDefaults.map(\.description)
            == ["REQUEST_WEIGHT 6000/1m", "ORDERS 100/10s", "ORDERS 200000/1d", "RAW_REQUESTS 61000/5m"])
    }
}
