import GordonExchange

/// The simulator's own enforcement of its `rateLimits`, as Binance does it: fixed windows
/// aligned to the interval (a minute window resets at each whole minute), request weight
/// counted per IP, orders counted per account, the counts echoed in `X-MBX-*` headers,
/// 429 once a window is exhausted, and a 418 ban for a client that keeps sending anyway.
struct SimRateLimits {
    struct Window {
        let rule: RateLimitRule
        let lengthMs: Int64
        var start: Int64 = 0
        var used = 0
        /// The most this window ever counted: tests assert it never passed the limit.
        var peak = 0
    }

    private(set) var windows: [Window]
    /// Requests refused with 429 since the last success; past `banAfterViolations` the
    /// client is banned, as Binance bans clients that ignore 429s.
    private var violations = 0
    let banAfterViolations: Int
    let banSeconds: Int
    private(set) var bannedUntilMs: Int64?

    init(rules: [RateLimitRule], banAfterViolations: Int = 5, banSeconds: Int = 120) {
        windows = rules.compactMap { rule in
            guard let length = SimRateLimits.intervalMilliseconds(rule) else { return nil }
            return Window(rule: rule, lengthMs: length)
        }
        self.banAfterViolations = banAfterViolations
        self.banSeconds = banSeconds
    }

    static func intervalMilliseconds(_ rule: RateLimitRule) -> Int64? {
        let unit: Int64? = switch rule.interval {
        case "SECOND": 1000
        case "MINUTE": 60_000
        case "HOUR": 3_600_000
        case "DAY": 86_400_000
        default: nil
        }
        return unit.map { $0 * Int64(max(rule.intervalNum, 1)) }
    }

    enum Verdict: Equatable {
        case proceed
        case tooMany(code: Int, message: String, retryAfterSeconds: Int)
        case banned(untilMs: Int64)
    }

    /// Counts one request (and one order if `isOrder`) and says whether it may proceed.
    mutating func admit(weight: Int, isOrder: Bool, now: Int64) -> Verdict {
        if let until = bannedUntilMs {
            if now < until { return .banned(untilMs: until) }
            bannedUntilMs = nil
            violations = 0
        }
        var refusal: Verdict?
        for index in windows.indices {
            roll(index, now: now)
            let cost: Int
            switch windows[index].rule.rateLimitType {
            case "REQUEST_WEIGHT": cost = weight
            case "RAW_REQUESTS": cost = 1
            case "ORDERS": cost = isOrder ? 1 : 0
            default: cost = 0
            }
            guard cost > 0 else { continue }
            // Binance counts the request even when it refuses it.
            windows[index].used += cost
            if windows[index].used > windows[index].rule.limit, refusal == nil {
                let window = windows[index]
                let retry = Int((window.start + window.lengthMs - now + 999) / 1000)
                let span = "\(window.rule.intervalNum) \(window.rule.interval)"
                refusal = window.rule.rateLimitType == "ORDERS"
                    ? .tooMany(code: -1015, message: "Too many new orders; current limit is \(window.rule.limit) orders per \(span).", retryAfterSeconds: retry)
                    : .tooMany(code: -1003, message: "Too much request weight used; current limit is \(window.rule.limit) request weight per \(span). Please use WebSocket Streams for live updates to avoid polling the API.", retryAfterSeconds: retry)
            }
        }
        if let refusal {
            violations += 1
            if violations > banAfterViolations {
                let until = now + Int64(banSeconds) * 1000
                bannedUntilMs = until
                return .banned(untilMs: until)
            }
            return refusal
        }
        for index in windows.indices { windows[index].peak = max(windows[index].peak, windows[index].used) }
        violations = 0
        return .proceed
    }

    private mutating func roll(_ index: Int, now: Int64) {
        let start = now - ((now % windows[index].lengthMs) + windows[index].lengthMs) % windows[index].lengthMs
        if start != windows[index].start {
            windows[index].start = start
            windows[index].used = 0
        }
    }

    /// `X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`… for the current windows.
    mutating func headers(now: Int64) -> [(String, String)] {
        var headers: [(String, String)] = []
        for index in windows.indices {
            roll(index, now: now)
            let rule = windows[index].rule
            let suffix = "\(rule.intervalNum)\(rule.interval.prefix(1))"
            switch rule.rateLimitType {
            case "REQUEST_WEIGHT": headers.append(("X-MBX-USED-WEIGHT-\(suffix)", "\(windows[index].used)"))
            case "ORDERS": headers.append(("X-MBX-ORDER-COUNT-\(suffix)", "\(windows[index].used)"))
            default: break
            }
        }
        return headers
    }

    /// The WebSocket API's `rateLimits` array: every REQUEST_WEIGHT and ORDERS window with its
    /// current count (web-socket-api.md, "Rate limits").
    mutating func counts(now: Int64) -> [(rule: RateLimitRule, count: Int)] {
        var counts: [(rule: RateLimitRule, count: Int)] = []
        for index in windows.indices where ["REQUEST_WEIGHT", "ORDERS"].contains(windows[index].rule.rateLimitType) {
            roll(index, now: now)
            counts.append((windows[index].rule, windows[index].used))
        }
        return counts
    }

    /// The highest count each rule's window ever reached on an admitted request.
    var peaks: [(rule: RateLimitRule, peak: Int)] { windows.map { ($0.rule, $0.peak) } }
}
