public import GordonKernel
import GordonDomain

/// The shared gate in front of every request of one client: one `RateLimitState` (the
/// arithmetic) behind an actor, so every caller of the process waits on the same counts.
///
/// A caller that would exceed a window sleeps until the window frees enough; after a 429
/// every caller waits out `Retry-After`; after a 418 every caller fails at once until the
/// ban expires, because sending anything during a ban lengthens it.
public actor RateLimiter {
    private var state: RateLimitState
    /// A wait longer than this is reported to the caller instead of slept through: an order
    /// that would leave minutes late is a different order.
    private let maximumWait: Duration

    public init(rules: [RateLimitRule] = RateLimitState.binanceDefaults, maximumWait: Duration = .seconds(30)) {
        state = RateLimitState(rules: rules)
        self.maximumWait = maximumWait
    }

    /// Replaces the rules with exchangeInfo's, keeping what was counted so far.
    public func update(rules: [RateLimitRule], now: Int64) {
        state.replaceRules(rules, now: now)
    }

    /// Returns once a request of this weight may be sent; it is then counted as sent.
    public func acquire(weight: Int, isOrder: Bool, endpoint: String, now: @Sendable () -> Int64) async throws(GordonError) {
        while true {
            let current = now()
            switch state.admit(weight: weight, isOrder: isOrder, now: current) {
            case .proceed:
                return
            case .banned(let until):
                throw GordonError(.exchangeBanned, "IP banned by Binance until \(Timestamp(milliseconds: until)); no request is sent before then",
                                  context: ["endpoint": endpoint, "bannedUntil": "\(until)"])
            case .refused(let reason):
                throw GordonError(.exchangeRateLimited, reason, context: ["endpoint": endpoint])
            case .wait(let until, let reason):
                let delay = Duration.milliseconds(max(1, until - current))
                guard delay <= maximumWait else {
                    throw GordonError(.exchangeRateLimited, "\(reason); the next slot is \(delay) away",
                                      context: ["endpoint": endpoint, "retryAt": "\(until)"])
                }
                do { try await Task.sleep(for: delay) } catch {
                    throw GordonError(.exchangeUnavailable, "cancelled while waiting for a rate-limit slot", context: ["endpoint": endpoint])
                }
            }
        }
    }

    public func observe(headers: [(String, String)], now: Int64) {
        state.observe(headers: headers, now: now)
    }

    public func observeTooManyRequests(retryAfterSeconds: Int?, now: Int64) {
        state.observeTooManyRequests(retryAfterSeconds: retryAfterSeconds, now: now)
    }

    public func observeBan(retryAfterSeconds: Int?, now: Int64) {
        state.observeBan(retryAfterSeconds: retryAfterSeconds, now: now)
    }

    public func status(now: Int64) -> RateLimitStatus { state.status(now: now) }
}
