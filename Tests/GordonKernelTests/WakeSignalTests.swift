import GordonKernel
import Testing

@Suite("WakeSignal")
struct WakeSignalTests {
    @Test("a wait that timed out leaves the next wait waiting its full timeout (an AsyncStream would wake it at once)")
    func timeoutDoesNotBreakLaterWaits() async {
        let signal = WakeSignal()
        for _ in 0..<3 {
            let started = ContinuousClock.now
            await signal.wait(timeout: .milliseconds(100))
            #expect(started.duration(to: .now) >= .milliseconds(100))
        }
    }

    @Test("a signal sent while nobody waits ends the next wait at once, and only that one")
    func signalIsKept() async {
        let signal = WakeSignal()
        signal.signal()
        signal.signal()
        let started = ContinuousClock.now
        await signal.wait(timeout: .seconds(60))
        #expect(started.duration(to: .now) < .seconds(30))
        let again = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(100))
        #expect(again.duration(to: .now) >= .milliseconds(100), "two signals are one wake-up")
    }

    @Test("a signal wakes a waiting loop, also after waits that timed out")
    func signalWakesAWaiter() async {
        let signal = WakeSignal()
        await signal.wait(timeout: .milliseconds(10))
        let started = ContinuousClock.now
        async let woken: Void = signal.wait(timeout: .seconds(60))
        signal.signal()
        await woken
        #expect(started.duration(to: .now) < .seconds(30))
    }

    @Test("cancelling the waiting task ends its wait")
    func cancellationEndsTheWait() async {
        let signal = WakeSignal()
        let started = ContinuousClock.now
        let task = Task { await signal.wait(timeout: .seconds(60)) }
        task.cancel()
        await task.value
        #expect(started.duration(to: .now) < .seconds(30))
    }
}
