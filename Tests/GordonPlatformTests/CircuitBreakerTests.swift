import GordonPlatform
import Testing

@Suite("CircuitBreaker: closed, open, half-open as a plain value")
struct CircuitBreakerTests {
    @Test func opensAfterTheThresholdOfConsecutiveFailures() {
        var breaker = CircuitBreaker(failureThreshold: 3, openDuration: .seconds(10))
        for second in 0..<2 {
            #expect(breaker.request(at: .seconds(second)) == .allow)
            breaker.failed(at: .seconds(second))
        }
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        #expect(breaker.request(at: .seconds(2)) == .allow)
        breaker.failed(at: .seconds(2))
        #expect(breaker.state == .open(until: .seconds(12)))
        #expect(breaker.request(at: .seconds(5)) == .reject(retryAfter: .seconds(7)))
    }

    @Test func aSuccessResetsTheCount() {
        var breaker = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(10))
        breaker.failed(at: .zero)
        breaker.succeeded(at: .seconds(1))
        breaker.failed(at: .seconds(2))
        #expect(breaker.state == .closed(consecutiveFailures: 1))
        #expect(breaker.request(at: .seconds(3)) == .allow)
    }

    @Test func letsOneProbeThroughAfterTheOpenPeriod() {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        breaker.failed(at: .zero)
        #expect(breaker.request(at: .seconds(10)) == .allow)
        #expect(breaker.state == .halfOpen)
        // Everyone else waits for the probe's answer.
        #expect(breaker.request(at: .seconds(10)) == .reject(retryAfter: .zero))
        breaker.succeeded(at: .seconds(11))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.request(at: .seconds(11)) == .allow)
    }

    @Test func aFailedProbeReopensForAFullPeriod() {
        var breaker = CircuitBreaker(failureThreshold: 5, openDuration: .seconds(10))
        for _ in 0..<5 { breaker.failed(at: .zero) }
        #expect(breaker.request(at: .seconds(30)) == .allow)
        breaker.failed(at: .seconds(31))
        #expect(breaker.state == .open(until: .seconds(41)))
        #expect(breaker.request(at: .seconds(40)) == .reject(retryAfter: .seconds(1)))
    }

    @Test func aLateFailureWhileOpenDoesNotExtendIt() {
        var breaker = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(10))
        breaker.failed(at: .zero)
        breaker.failed(at: .seconds(5))  // a call that was already out
        #expect(breaker.state == .open(until: .seconds(10)))
    }
}
