/// What the outbox relay does after each attempt, as a plain value: the policy is tested
/// without a database or a server, and the relay's I/O loop only obeys it.
public struct OutboxRelaySchedule: Sendable {
    public enum Next: Sendable, Equatable {
        /// More rows are probably waiting: go again at once.
        case relayNow
        /// Sleep until a NOTIFY wakes the relay or `Duration` passes (the polling fallback).
        case wait(Duration)
        /// Rows went out and their marks are pending: go again when a NOTIFY comes, or after
        /// `Duration` to mark them. Not a poll: the next batch reads on from the cursor.
        case settle(Duration)
    }

    public let batchSize: Int
    public let pollInterval: Duration
    public let initialBackoff: Duration
    public let maxBackoff: Duration
    public private(set) var consecutiveFailures = 0

    public init(batchSize: Int, pollInterval: Duration, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5)) {
        precondition(batchSize > 0)
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// A batch went out; a full one means the backlog may continue. Acknowledged rows not
    /// yet marked sent (`marksPending`) are marked by the next batch, which waits a moment
    /// for new rows to come along: a batch run only to mark would hold up the next event.
    public mutating func published(_ count: Int, marksPending: Bool = false) -> Next {
        consecutiveFailures = 0
        if count >= batchSize { return .relayNow }
        return marksPending ? .settle(settleDelay) : .wait(pollInterval)
    }

    /// How long pending marks wait for the next rows before a batch runs for them alone.
    public var settleDelay: Duration = .milliseconds(5)

    /// Another relay of the same producer holds the lease: stay on standby and poll.
    public mutating func standby() -> Next {
        consecutiveFailures = 0
        return .wait(pollInterval)
    }

    /// The database or the server failed: back off exponentially, capped.
    public mutating func failed() -> Next {
        consecutiveFailures += 1
        var delay = initialBackoff
        for _ in 1..<min(consecutiveFailures, 20) { delay = delay * 2 }
        return .wait(min(delay, maxBackoff))
    }
}
