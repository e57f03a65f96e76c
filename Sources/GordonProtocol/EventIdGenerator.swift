#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonDomain
import Synchronization

/// Issues `EventId`s that are strictly increasing for the lifetime of the generator, even
/// when many ids fall in one millisecond or the wall clock steps back (NTP, a VM resume).
///
/// RFC 9562 §6.2 method 1: `rand_a` is a 12-bit counter. A new millisecond seeds it with
/// 11 random bits (so at least 2048 increments remain); another id in the same or an
/// earlier millisecond keeps the last timestamp and increments the counter; when the counter
/// is exhausted the timestamp moves one millisecond ahead of the clock (§6.2 allows this)
/// until the clock catches up. `rand_b` (62 bits) is fresh randomness in every id, so ids
/// from different processes collide only by chance of 2^-62 within a millisecond and counter.
///
/// A `final class` holding its state under a `Mutex`: one generator is meant to be shared by
/// every task in a service, and monotonicity is only possible if all of them advance the same
/// state. A lock rather than an actor because issuing an id is a few nanoseconds of work that
/// never suspends, and publishers should not need `await` to name an event.
public final class EventIdGenerator: Sendable {
    private struct State {
        var lastMilliseconds: Int64 = -1
        var counter: UInt16 = 0
        var random: any RandomNumberGenerator & Sendable
    }

    private let clock: @Sendable () -> Timestamp
    private let state: Mutex<State>

    /// A generator over an injected clock and randomness, for tests and simulations. A clock
    /// reading outside 0...2^48−1 ms is clamped into it.
    public init(clock: @escaping @Sendable () -> Timestamp, random: some RandomNumberGenerator & Sendable) {
        self.clock = clock
        self.state = Mutex(State(random: random))
    }

    /// The wall clock and the system's cryptographic randomness.
    public convenience init() {
        self.init(clock: EventIdGenerator.systemClock, random: SystemRandomNumberGenerator())
    }

    /// Milliseconds since the Unix epoch from the wall clock.
    @Sendable public static func systemClock() -> Timestamp {
        Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// The next id: greater than every id this generator issued before.
    public func next() -> EventId {
        let now = min(max(clock().milliseconds, 0), EventId.maxTimestampMilliseconds)
        return state.withLock { state in
            if now > state.lastMilliseconds {
                state.lastMilliseconds = now
                state.counter = UInt16(truncatingIfNeeded: state.random.next() & 0x7FF)
            } else if state.counter < EventId.maxRandA {
                state.counter += 1
            } else {
                // Borrowing from the future is bounded by the 48-bit timestamp, which the
                // clamp above keeps out of reach until the year 10889.
                precondition(state.lastMilliseconds < EventId.maxTimestampMilliseconds, "event id timestamp space exhausted")
                state.lastMilliseconds += 1
                state.counter = UInt16(truncatingIfNeeded: state.random.next() & 0x7FF)
            }
            return EventId(unchecked: state.lastMilliseconds, randA: state.counter, randB: state.random.next() & EventId.maxRandB)
        }
    }
}
