import GordonPlatform
import Testing

@Suite("CircuitBreaker: closed, open, half-open as a plain value")
struct CircuitBreakerTests {
    /// Asks the breaker and returns the ticket of an allowed call, failing the test otherwise.
    func allowed(_ breaker: inout CircuitBreaker, at now: Duration, sourceLocation: SourceLocation = #_sourceLocation) throws -> CircuitBreaker.Ticket {
        guard case .allow(let ticket) = breaker.request(at: now) else {
            Issue.record("refused at \(now) in \(breaker.state)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return ticket
    }

    @Test func opensAfterTheThresholdOfConsecutiveFailures() throws {
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(10))
        for second in 0..<2 {
            let ticket = try allowed(&breaker, at: .seconds(second))
            breaker.failed(ticket, at: .seconds(second))
        }
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        let third = try allowed(&breaker, at: .seconds(2))
        breaker.failed(third, at: .seconds(2))
        #expect(breaker.state == .open(until: .seconds(12)))
        #expect(breaker.request(at: .seconds(5)) == .reject(retryAfter: .seconds(7)))
    }

    @Test func aSuccessResetsTheCount() throws {
        var breaker = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(10))
        let first = try allowed(&breaker, at: .zero)
        let second = try allowed(&breaker, at: .zero)
        let third = try allowed(&breaker, at: .zero)
        breaker.failed(first, at: .zero)
        breaker.succeeded(second, at: .seconds(1))
        breaker.failed(third, at: .seconds(2))
        #expect(breaker.state == .closed(consecutiveFailures: 1))
        #expect(breaker.request(at: .seconds(3)).isAllowed)
    }

    @Test func letsOneProbeThroughAfterTheOpenPeriod() throws {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        breaker.failed(try allowed(&breaker, at: .zero), at: .zero)
        let probe = try allowed(&breaker, at: .seconds(10))
        #expect(breaker.state == .halfOpen)
        // Everyone else waits for the probe's answer.
        #expect(breaker.request(at: .seconds(10)) == .reject(retryAfter: .zero))
        breaker.succeeded(probe, at: .seconds(11))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.request(at: .seconds(11)).isAllowed)
    }

    @Test func aFailedProbeReopensForAFullPeriod() throws {
        var breaker = CircuitBreaker(failureThreshold: 5, openDuration: .seconds(10))
        for _ in 0..<5 { breaker.failed(try allowed(&breaker, at: .zero), at: .zero) }
        let probe = try allowed(&breaker, at: .seconds(30))
        breaker.failed(probe, at: .seconds(31))
        #expect(breaker.state == .open(until: .seconds(41)))
        #expect(breaker.request(at: .seconds(40)) == .reject(retryAfter: .seconds(1)))
    }

    @Test func answersFromBeforeTheBreakerOpenedAreIgnored() throws {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        let slow = try allowed(&breaker, at: .zero)
        let failing = try allowed(&breaker, at: .zero)
        breaker.failed(failing, at: .seconds(1))
        // A slow success of a call made while closed must not close an open breaker…
        breaker.succeeded(slow, at: .seconds(2))
        #expect(breaker.state == .open(until: .seconds(11)))
        // …nor a late failure reopen a half-open one before its probe answers.
        let probe = try allowed(&breaker, at: .seconds(11))
        breaker.failed(slow, at: .seconds(12))
        #expect(breaker.state == .halfOpen)
        breaker.succeeded(probe, at: .seconds(13))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func anAbandonedProbeFreesTheSlot() throws {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        breaker.failed(try allowed(&breaker, at: .zero), at: .zero)
        let probe = try allowed(&breaker, at: .seconds(10))
        breaker.abandoned(probe, at: .seconds(11))
        // Not stuck half-open: the next call is the new probe, and the peer was not blamed.
        let next = try allowed(&breaker, at: .seconds(11))
        #expect(breaker.state == .halfOpen)
        breaker.succeeded(next, at: .seconds(12))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }
}
