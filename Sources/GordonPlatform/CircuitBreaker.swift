/// Closed, open, half-open as a plain value, for calls from one service to another: after
/// `failureThreshold` failures in a row the breaker opens and refuses calls at once for
/// `openDuration` (a dead peer costs nothing, and is not hammered while it restarts); then
/// one probe call is let through, whose outcome closes or reopens it.
///
/// Every call that is let through carries a `Ticket` naming the phase it started in; an
/// answer from an earlier phase (a slow call that began before the breaker opened) is
/// ignored, so only the probe decides what half-open becomes.
///
/// Time is a `Duration` on a monotonic clock the caller owns, so tests drive it directly.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Duration)
        /// One probe is out; everyone else is refused until it answers.
        case halfOpen
    }

    public struct Ticket: Sendable, Equatable {
        let phase: Int
    }

    public enum Decision: Sendable, Equatable {
        case allow(Ticket)
        case reject(retryAfter: Duration)

        public var isAllowed: Bool { if case .allow = self { true } else { false } }
    }

    public let failureThreshold: Int
    public let openDuration: Duration
    public private(set) var state: State = .closed(consecutiveFailures: 0)
    /// Counts the changes between closed, open and half-open.
    private var phase = 0

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
            return .allow(Ticket(phase: phase))
        case .open(let until) where now >= until:
            enter(.halfOpen)
            return .allow(Ticket(phase: phase))
        case .open(let until):
            return .reject(retryAfter: until - now)
        case .halfOpen:
            return .reject(retryAfter: .zero)
        }
    }

    public mutating func succeeded(_ ticket: Ticket, at now: Duration) {
        guard ticket.phase == phase else { return }
        switch state {
        case .closed: state = .closed(consecutiveFailures: 0)
        case .halfOpen: enter(.closed(consecutiveFailures: 0))
        case .open: break
        }
    }

    public mutating func failed(_ ticket: Ticket, at now: Duration) {
        guard ticket.phase == phase else { return }
        switch state {
        case .halfOpen:
            enter(.open(until: now + openDuration))
        case .closed(let failures) where failures + 1 >= failureThreshold:
            enter(.open(until: now + openDuration))
        case .closed(let failures):
            state = .closed(consecutiveFailures: failures + 1)
        case .open:
            break
        }
    }

    /// The call was given up by its caller (cancelled), which says nothing about the peer. An
    /// abandoned probe frees its slot: the next call is the probe.
    public mutating func abandoned(_ ticket: Ticket, at now: Duration) {
        guard ticket.phase == phase, state == .halfOpen else { return }
        enter(.open(until: now))
    }

    private mutating func enter(_ next: State) {
        state = next
        phase += 1
    }
}
