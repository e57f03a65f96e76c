public import GordonKernel
import GordonDomain
public import Logging

/// The shared gate in front of every request of one client: one `RateLimitState` (the
/// arithmetic) behind an actor, so every caller of the process waits on the same counts.
///
/// A caller that would exceed a window sleeps until the window frees enough; after a 429
/// every caller waits out `Retry-After`; after a 418 every caller fails at once until the
/// ban expires, because sending anything during a ban lengthens it.
///
/// With a `SharedRateLimitFile`, the other processes on this IP are part of "every caller":
/// each request first adopts what they recorded (ban, back-off, counts), and every response
/// records what this process learnt. A file that cannot be read or written is logged and
/// the limiter goes on with what it knows itself: it never stops trading on its own account.
public actor RateLimiter {
    private var state: RateLimitState
    /// A wait longer than this is reported to the caller instead of slept through: an order
    /// that would leave minutes late is a different order.
    private let maximumWait: Duration
    private let sharedFile: SharedRateLimitFile?
    private let logger: Logger
    private var sharedFileFailing = false

    public init(rules: [RateLimitRule] = RateLimitState.binanceDefaults, maximumWait: Duration = .seconds(30),
                sharedFile: SharedRateLimitFile? = nil, logger: Logger = Logger(label: "gordon.exchange.limits")) {
        state = RateLimitState(rules: rules)
        self.maximumWait = maximumWait
        self.sharedFile = sharedFile
        self.logger = logger
    }

    /// Adopts what the other processes recorded.
    private func adoptShared(now: Int64) {
        guard let sharedFile else { return }
        do {
            state.merge(try sharedFile.read(), now: now)
            noteSharedFile(failure: nil)
        } catch {
            noteSharedFile(failure: error)
        }
    }

    /// Records what this process knows, and adopts the others' facts in the same step.
    private func publishShared(now: Int64) {
        guard let sharedFile else { return }
        do {
            state.merge(try sharedFile.exchange(state.shared(now: now), now: now), now: now)
            noteSharedFile(failure: nil)
        } catch {
            noteSharedFile(failure: error)
        }
    }

    /// Logs the first failure and the recovery, not every request in between.
    private func noteSharedFile(failure: GordonError?) {
        if let failure, !sharedFileFailing {
            sharedFileFailing = true
            logger.error("shared rate-limit file unusable: limits are no longer shared with the other processes on this IP",
                         metadata: ["error": "\(failure)"])
        } else if failure == nil, sharedFileFailing {
            sharedFileFailing = false
            logger.notice("shared rate-limit file usable again")
        }
    }

    /// Replaces the rules with exchangeInfo's, keeping what was counted so far.
    public func update(rules: [RateLimitRule], now: Int64) {
        state.replaceRules(rules, now: now)
    }

    /// Returns once a request of this weight may be sent; it is then counted as sent.
    public func acquire(weight: Int, isOrder: Bool, priority: RequestPriority = .normal, endpoint: String,
                        now: @Sendable () -> Int64) async throws(GordonError) {
        while true {
            let current = now()
            // Read on every request, not cached: a ban the other process saw a moment ago must
            // stop this request. That costs an open, a shared flock and a read of a few hundred
            // bytes, against a network round trip of milliseconds.
            adoptShared(now: current)
            switch state.admit(weight: weight, isOrder: isOrder, priority: priority, now: current) {
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
        publishShared(now: now)
    }

    public func observeTooManyRequests(retryAfterSeconds: Int?, now: Int64) {
        state.observeTooManyRequests(retryAfterSeconds: retryAfterSeconds, now: now)
        publishShared(now: now)
    }

    public func observeBan(retryAfterSeconds: Int?, now: Int64) {
        state.observeBan(retryAfterSeconds: retryAfterSeconds, now: now)
        publishShared(now: now)
    }

    /// A WebSocket API reply's limits: its `rateLimits` counts, and for a 429 or 418 the
    /// instant in `retryAfter`.
    public func observe(webSocketAPIReply limits: WebSocketAPIReplyLimits, now: Int64) {
        state.observe(counts: limits.counts, now: now)
        switch limits.status {
        case 429: state.observeTooManyRequests(retryAtMs: limits.retryAtMs, now: now)
        case 418: state.observeBan(retryAtMs: limits.retryAtMs, now: now)
        default: break
        }
        publishShared(now: now)
    }

    public func status(now: Int64) -> RateLimitStatus { state.status(now: now) }
}
