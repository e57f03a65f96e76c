/// What to do with a request the limiter was asked about.
public enum RateLimitDecision: Sendable, Equatable {
    /// Send it; it has been counted.
    case proceed
    /// Ask again at `untilMs` (server time); nothing was counted.
    case wait(untilMs: Int64, reason: String)
    /// The IP is banned (418): send nothing before `untilMs`, since requests during a ban
    /// lengthen it.
    case banned(untilMs: Int64)
    /// The request alone costs more than a rule's whole window allows, so no amount of
    /// waiting admits it. Distinct from `.wait` because waiting forever is a hang, not a
    /// decision: the caller has a bug (or a config too tight) and must hear about it.
    case refused(reason: String)
}

/// Who is asking: a cancel may use the share of the IP's limits every other request leaves
/// free, so that protecting a position still works when data requests have used the rest.
public enum RequestPriority: Sendable, Equatable {
    case normal
    case cancel
}

/// Binance's request limits as a plain state machine: counts per rule and window, the
/// 429 back-off and the 418 ban. Time is always passed in, in milliseconds of *server*
/// time (`ServerClock.serverTime`), because the windows are the server's.
///
/// Windows are **fixed**, not sliding: each starts at a whole multiple of its length since
/// the Unix epoch (a `1m` window resets at every whole minute, `10s` at :00, :10, :20 …, a
/// `1d` window at 00:00 UTC) and its count drops to zero at the boundary. That is what
/// Binance describes: "you can place at most 100 new orders between 12:34:00 and 12:34:10,
/// then 100 more from 12:34:10 to 12:34:20" (faqs/order_count_decrement.md), and the
/// `X-MBX-USED-WEIGHT-1M` header reports the weight used in the current such window. A
/// sliding model would be safe too, but would throttle needlessly right after a boundary.
///
/// Every admitted request is counted at once ("reserved"), before its response arrives,
/// so concurrent requests in flight can never add up past a limit. A request admitted in
/// the last moments of a window may reach the server after the boundary and be counted in
/// the next window instead, so it is counted in both (`Window.transitMs`): otherwise a
/// burst straddling a boundary overshoots the next window by whatever was in flight. The server's counts
/// from response headers are merged by taking the larger count, because the server also
/// sees what other processes on the same IP (or, for ORDERS, the same account) did.
/// REQUEST_WEIGHT and RAW_REQUESTS are per IP and ORDERS per account (rest-api.md,
/// "LIMITS"); one state serves one client that has both, so all rules live here.
public struct RateLimitState: Sendable {
    /// Binance spot's live rules, used until exchangeInfo's replace them (`replaceRules`).
    /// The docs only show examples (enums.md: REQUEST_WEIGHT 6000/1m, RAW_REQUESTS 61000/5m;
    /// faqs/order_count_decrement.md: ORDERS 100/10s; `GET /api/v3/rateLimit/order`'s
    /// example shows 50/10s and 160000/1d), so exchangeInfo stays the authority.
    public static let binanceDefaults: [RateLimitRule] = [
        RateLimitRule(rateLimitType: RateLimitRule.requestWeight, interval: "MINUTE", intervalNum: 1, limit: 6000),
        RateLimitRule(rateLimitType: RateLimitRule.orders, interval: "SECOND", intervalNum: 10, limit: 100),
        RateLimitRule(rateLimitType: RateLimitRule.orders, interval: "DAY", intervalNum: 1, limit: 200_000),
        RateLimitRule(rateLimitType: RateLimitRule.rawRequests, interval: "MINUTE", intervalNum: 5, limit: 61000),
    ]

    /// Back-off after a 429 that carries no `Retry-After`: a whole minute covers the
    /// longest usual window (REQUEST_WEIGHT 1m).
    public static let defaultTooManyRequestsBackoffMs: Int64 = 60_000
    /// Ban assumed after a 418 without `Retry-After`: Binance's shortest ban, "from 2
    /// minutes to 3 days" (rest-api.md, "IP Limits").
    public static let defaultBanMs: Int64 = 120_000

    /// The share of every limit left unused, in `0..<1`: room for what other hosts behind
    /// the same IP do between two of our responses.
    public let safetyMargin: Double
    /// The share of every per-IP window (REQUEST_WEIGHT, RAW_REQUESTS) kept for cancels, in
    /// `0..<1`. ORDERS needs none: Binance counts new orders there, never cancels.
    public let cancelReserve: Double
    private var windows: [Window]
    private var backoffUntilMs: Int64?
    private var bannedUntilMs: Int64?

    public init(rules: [RateLimitRule] = RateLimitState.binanceDefaults, safetyMargin: Double = 0.05, cancelReserve: Double = 0.1) {
        precondition(safetyMargin >= 0 && safetyMargin < 1, "safetyMargin must be in 0..<1")
        precondition(cancelReserve >= 0 && cancelReserve < 1, "cancelReserve must be in 0..<1")
        self.safetyMargin = safetyMargin
        self.cancelReserve = cancelReserve
        windows = rules.map { Window(rule: $0, safetyMargin: safetyMargin, cancelReserve: cancelReserve) }
    }

    public var rules: [RateLimitRule] { windows.map(\.rule) }

    /// Adopts exchangeInfo's rules. A rule that was already tracked keeps its count for the
    /// current window, so reloading exchangeInfo never forgets what was sent.
    public mutating func replaceRules(_ rules: [RateLimitRule], now: Int64) {
        let old = windows.map { window -> Window in
            var window = window
            window.roll(to: now)
            return window
        }
        windows = rules.map { rule in
            var window = Window(rule: rule, safetyMargin: safetyMargin, cancelReserve: cancelReserve)
            window.roll(to: now)
            if let previous = old.first(where: { $0.tracksSameCounter(as: window) }) {
                window.used = max(window.used, previous.used)
            }
            return window
        }
    }

    /// Would sending a request of this weight (and, if `isOrder`, one more order) now
    /// exceed any window? If not, counts it and returns `.proceed`; otherwise returns when
    /// to ask again without counting anything. When several windows are full the answer is
    /// the latest of their ends, the first instant at which all of them have room.
    /// A `.normal` request may not use a window's cancel reserve; a `.cancel` may use all of it.
    public mutating func admit(weight: Int, isOrder: Bool, priority: RequestPriority = .normal, now: Int64) -> RateLimitDecision {
        guard weight >= 0 else { return .refused(reason: "request weight \(weight) is negative") }
        if let until = bannedUntilMs {
            if now < until { return .banned(untilMs: until) }
            bannedUntilMs = nil
        }
        if let until = backoffUntilMs {
            if now < until { return .wait(untilMs: until, reason: "backing off after HTTP 429 until \(until)") }
            backoffUntilMs = nil
        }
        for index in windows.indices { windows[index].roll(to: now) }

        for window in windows where window.isEnforced {
            let cost = window.rule.cost(weight: weight, isOrder: isOrder)
            let usable = window.usable(by: priority)
            if cost > usable {
                return .refused(reason: "a request costing \(cost) can never fit \(window.rule) (usable \(usable))")
            }
        }
        var waitUntil: Int64?
        var reasons: [String] = []
        for window in windows where window.isEnforced {
            let cost = window.rule.cost(weight: weight, isOrder: isOrder)
            let usable = window.usable(by: priority)
            guard cost > 0, let end = window.endMs else { continue }
            if saturatingSum(window.used, cost) > usable {
                waitUntil = max(waitUntil ?? end, end)
                reasons.append("\(window.rule) used \(window.used)+\(cost) > \(usable)")
            } else if window.isClosing(at: now), saturatingSum(window.spill, cost) > usable {
                waitUntil = max(waitUntil ?? end, end)
                reasons.append("\(window.rule) next window already holds \(window.spill)+\(cost) > \(usable)")
            }
        }
        if let waitUntil {
            return .wait(untilMs: waitUntil, reason: reasons.joined(separator: "; "))
        }
        for index in windows.indices where windows[index].isEnforced {
            let cost = windows[index].rule.cost(weight: weight, isOrder: isOrder)
            windows[index].used = saturatingSum(windows[index].used, cost)
            if windows[index].isClosing(at: now) { windows[index].spill = saturatingSum(windows[index].spill, cost) }
        }
        return .proceed
    }

    /// Merges the server's counts from response headers (`X-MBX-USED-WEIGHT-1M`,
    /// `X-MBX-ORDER-COUNT-10S`, …; any letter case) into the current windows. The server is
    /// the truth about what it counted, we are the truth about what is still in flight:
    /// the larger of the two is kept. Headers for windows with no rule are ignored.
    public mutating func observe(headers: [(String, String)], now: Int64) {
        for (rawName, rawValue) in headers {
            let name = rawName.lowercased()
            let type: String, suffix: Substring
            if name.hasPrefix(RateLimitState.usedWeightPrefix) {
                type = RateLimitRule.requestWeight
                suffix = name.dropFirst(RateLimitState.usedWeightPrefix.count)
            } else if name.hasPrefix(RateLimitState.orderCountPrefix) {
                type = RateLimitRule.orders
                suffix = name.dropFirst(RateLimitState.orderCountPrefix.count)
            } else {
                continue
            }
            guard let count = Int(trimmingSpaces(rawValue)), count >= 0 else { continue }
            for index in windows.indices
            where windows[index].rule.rateLimitType == type && windows[index].rule.headerSuffix == String(suffix) {
                windows[index].roll(to: now)
                windows[index].used = max(windows[index].used, count)
            }
        }
    }

    /// The WebSocket API's `rateLimits` array (each entry a rule and its current `count`):
    /// the same truth as the REST headers, merged the same way.
    public mutating func observe(counts: [(rule: RateLimitRule, count: Int)], now: Int64) {
        for (rule, count) in counts where count >= 0 {
            guard let length = rule.windowMilliseconds else { continue }
            for index in windows.indices where windows[index].rule.rateLimitType == rule.rateLimitType && windows[index].lengthMs == length {
                windows[index].roll(to: now)
                windows[index].used = max(windows[index].used, count)
            }
        }
    }

    /// A 429 or 418 from the WebSocket API, whose `retryAfter` is the epoch millisecond at
    /// which sending may resume (not a number of seconds as in REST's `Retry-After`).
    public mutating func observeTooManyRequests(retryAtMs: Int64?, now: Int64) {
        let until = Self.clamped(retryAtMs, now: now, default: RateLimitState.defaultTooManyRequestsBackoffMs)
        backoffUntilMs = max(backoffUntilMs ?? until, until)
    }

    public mutating func observeBan(retryAtMs: Int64?, now: Int64) {
        let until = Self.clamped(retryAtMs, now: now, default: RateLimitState.defaultBanMs)
        bannedUntilMs = max(bannedUntilMs ?? until, until)
    }

    /// An absolute instant from the network, kept between now and the longest ban.
    private static func clamped(_ retryAt: Int64?, now: Int64, default fallback: Int64) -> Int64 {
        guard let retryAt else { return instant(now, plus: nil, default: fallback) }
        let latest = instant(now, plus: Int(longestRetryAfterSeconds), default: fallback)
        return min(max(retryAt, now), latest)
    }

    // MARK: Shared with the other processes on this IP

    /// What this state knows that another process on the same IP must honour: the ban, the
    /// 429 back-off and the per-IP windows' counts.
    public func shared(now: Int64) -> SharedRateLimits {
        var counts: [SharedRateLimits.Count] = []
        for window in windows where window.isPerIP {
            var window = window
            window.roll(to: now)
            guard let length = window.lengthMs else { continue }
            counts.append(SharedRateLimits.Count(rateLimitType: window.rule.rateLimitType, windowMs: length,
                                                 windowStartMs: window.startMs, used: window.used))
        }
        return SharedRateLimits(bannedUntilMs: bannedUntilMs.flatMap { $0 > now ? $0 : nil },
                                backoffUntilMs: backoffUntilMs.flatMap { $0 > now ? $0 : nil }, counts: counts)
    }

    /// Adopts what another process recorded: its ban and back-off as if seen here (clamped
    /// like any network input), and its counts for the windows that are current here.
    public mutating func merge(_ shared: SharedRateLimits, now: Int64) {
        if let until = shared.bannedUntilMs, until > now { observeBan(retryAtMs: until, now: now) }
        if let until = shared.backoffUntilMs, until > now { observeTooManyRequests(retryAtMs: until, now: now) }
        for count in shared.counts where count.used >= 0 {
            for index in windows.indices
            where windows[index].isPerIP && windows[index].rule.rateLimitType == count.rateLimitType && windows[index].lengthMs == count.windowMs {
                windows[index].roll(to: now)
                if windows[index].startMs == count.windowStartMs {
                    windows[index].used = max(windows[index].used, count.used)
                }
            }
        }
    }

    /// HTTP 429: every request waits `Retry-After` seconds (or the default), whatever its
    /// kind, because continuing to send after a 429 is what earns a ban.
    public mutating func observeTooManyRequests(retryAfterSeconds: Int?, now: Int64) {
        let until = Self.instant(now, plus: retryAfterSeconds, default: RateLimitState.defaultTooManyRequestsBackoffMs)
        backoffUntilMs = max(backoffUntilMs ?? until, until)
    }

    /// HTTP 418: the IP is banned; nothing at all is admitted until the ban expires.
    public mutating func observeBan(retryAfterSeconds: Int?, now: Int64) {
        let until = Self.instant(now, plus: retryAfterSeconds, default: RateLimitState.defaultBanMs)
        bannedUntilMs = max(bannedUntilMs ?? until, until)
    }

    /// Binance's bans last from 2 minutes to 3 days; a longer `Retry-After` is taken as 3
    /// days, a negative one as 0, so a hostile or garbled header cannot trap the arithmetic.
    static let longestRetryAfterSeconds: Int64 = 3 * 86_400

    private static func instant(_ now: Int64, plus retryAfterSeconds: Int?, default fallback: Int64) -> Int64 {
        let wait = retryAfterSeconds.map { min(max(0, Int64($0)), longestRetryAfterSeconds) * 1000 } ?? fallback
        let (until, overflow) = now.addingReportingOverflow(wait)
        return overflow ? Int64.max : until
    }

    public func status(now: Int64) -> RateLimitStatus {
        let usages = windows.map { window -> RateLimitStatus.Usage in
            var window = window
            window.roll(to: now)
            return RateLimitStatus.Usage(rule: window.rule, used: window.used, capacity: window.capacity,
                                         windowStartMs: window.lengthMs == nil ? nil : window.startMs, windowEndMs: window.endMs)
        }
        return RateLimitStatus(usages: usages,
                               backoffUntilMs: backoffUntilMs.flatMap { $0 > now ? $0 : nil },
                               bannedUntilMs: bannedUntilMs.flatMap { $0 > now ? $0 : nil })
    }

    private static let usedWeightPrefix = "x-mbx-used-weight-"
    private static let orderCountPrefix = "x-mbx-order-count-"
}

/// The count of one rule in its current fixed window.
private struct Window: Sendable {
    let rule: RateLimitRule
    let lengthMs: Int64?
    let capacity: Int
    /// Of `capacity`, what only cancels may use.
    let reserved: Int
    var startMs: Int64 = .min
    var used = 0
    /// Cost admitted near the end of this window that may land in the next one.
    var spill = 0
    /// How close to the boundary a request counts in both windows: time for it to reach
    /// the server. A quarter of the window, at most a second.
    let transitMs: Int64

    init(rule: RateLimitRule, safetyMargin: Double, cancelReserve: Double) {
        self.rule = rule
        lengthMs = rule.windowMilliseconds
        // exchangeInfo is input: a limit too large for the Double round trip is taken as it is.
        let usable = Int(exactly: (Double(rule.limit) * (1 - safetyMargin)).rounded(.down)) ?? rule.limit
        capacity = rule.limit > 0 ? max(1, min(usable, rule.limit)) : 0
        let isPerIP = rule.rateLimitType == RateLimitRule.requestWeight || rule.rateLimitType == RateLimitRule.rawRequests
        let reserve = Int(exactly: (Double(capacity) * cancelReserve).rounded(.down)) ?? 0
        reserved = isPerIP ? min(max(0, reserve), max(0, capacity - 1)) : 0
        transitMs = lengthMs.map { min(1000, $0 / 4) } ?? 0
    }

    /// Binance counts REQUEST_WEIGHT and RAW_REQUESTS per IP, ORDERS per account.
    var isPerIP: Bool { rule.rateLimitType == RateLimitRule.requestWeight || rule.rateLimitType == RateLimitRule.rawRequests }

    func usable(by priority: RequestPriority) -> Int {
        priority == .cancel ? capacity : capacity - reserved
    }

    func isClosing(at now: Int64) -> Bool {
        guard let endMs else { return false }
        return now >= endMs - transitMs
    }

    /// A rule with an unknown type or interval cannot be counted: there is no cost or
    /// window to count it in. It still shows in `status`.
    var isEnforced: Bool {
        lengthMs != nil && [RateLimitRule.requestWeight, RateLimitRule.orders, RateLimitRule.rawRequests].contains(rule.rateLimitType)
    }

    var endMs: Int64? {
        lengthMs.map { length in
            let (end, overflow) = startMs.addingReportingOverflow(length)
            return overflow ? Int64.max : end
        }
    }

    /// Moves to the window containing `now`, which starts empty. A `now` earlier than the
    /// current window (server-time estimate stepped back) keeps the current count: forgetting
    /// it could admit more than the server allows.
    mutating func roll(to now: Int64) {
        guard let lengthMs else { return }
        let start = now - floorModulo(now, lengthMs)
        if start > startMs {
            // Straight into the next window: what was sent at the end of the last one may
            // be counted here by the server.
            used = start == startMs &+ lengthMs ? spill : 0
            spill = 0
            startMs = start
        }
    }

    func tracksSameCounter(as other: Window) -> Bool {
        rule.rateLimitType == other.rule.rateLimitType && lengthMs == other.lengthMs && startMs == other.startMs
    }
}

/// Counts from the network (a server-reported used weight) can be anything: add without trapping.
private func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? Int.max : Int.min) : sum
}

private func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
    let remainder = value % divisor
    return remainder < 0 ? remainder + divisor : remainder
}

private func trimmingSpaces(_ text: String) -> Substring {
    var slice = Substring(text)
    while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
    while slice.last == " " || slice.last == "\t" { slice.removeLast() }
    return slice
}
