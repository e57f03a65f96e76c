/// Closed, open, half-open as a plain value, for calls from one service to another: after
/// `failureThreshold` failures in a row the breaker opens and refuses calls at once for
/// `openDuration` (a dead peer costs nothing, and is not hammered while it restarts); then
/// one probe call is let through, whose outcome closes or reopens it.
///
/// Time is a `Duration` on a monotonic clock the caller owns, so tests drive it directly.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Duration)
        /// One probe is out; everyone else is refused until it answers.
        case halfOpen
    }

    public enum Decision: Sendable, Equatable {
        case allow
        case reject(retryAfter: Duration)
    }

    public let failureThreshold: Int
    public let openDuration: Duration
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(10)) {
        precondition(failureThreshold > 0, "a breaker needs at least one failure to open")
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
    }

    /// Whether a call may go out now. Letting the first call through after the open period
    /// moves the breaker to half-open: that call is the probe.
    public mutating func request(at now: Duration) -> Decision {
        switch state {
        case .closed:
            return .allow
        case .open(let until) where now >= until:
            state = .halfOpen
            return .allow
        case .open(let until):
            return .reject(retryAfter: until - now)
        case .halfOpen:
            return .reject(retryAfter: .zero)
        }
    }

    public mutating func succeeded(at now: Duration) {
        state = .closed(consecutiveFailures: 0)
    }

    public mutating func failed(at now: Duration) {
        switch state {
        case .halfOpen:
            state = .open(until: now + openDuration)
        case .closed(let failures) where failures + 1 >= failureThreshold:
            state = .open(until: now + openDuration)
        case .closed(let failures):
            state = .closed(consecutiveFailures: failures + 1)
        case .open:
            break  // a call that was already out when the breaker opened
        }
    }
}
