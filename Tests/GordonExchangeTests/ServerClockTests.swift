import GordonExchange
import Testing

@Suite("ServerClock")
struct ServerClockTests {
    static let local0: Int64 = 1_700_000_000_000

    /// A time request against a server whose clock is `skew` ahead of ours, with the given
    /// one-way delays; the server reads its clock as the request arrives.
    static func sample(_ clock: inout ServerClock, sentAt: Int64, skew: Int64, up: Int64, down: Int64) {
        clock.observe(serverTimeMs: sentAt + up + skew, requestSentAtMs: sentAt, responseReceivedAtMs: sentAt + up + down)
    }

    @Test(arguments: [Int64(5000), -5000, 0, 37])
    func symmetricDelaysRecoverTheSkewExactly(skew: Int64) {
        var clock = ServerClock()
        #expect(clock.needsResync)
        Self.sample(&clock, sentAt: Self.local0, skew: skew, up: 40, down: 40)
        #expect(!clock.needsResync)
        #expect(clock.offsetMs == skew)
        #expect(clock.serverTime(localNowMs: Self.local0 + 1000) == Self.local0 + 1000 + skew)
    }

    @Test(arguments: [Int64(5000), -5000])
    func asymmetricDelaysStayWithinHalfTheRoundTrip(skew: Int64) {
        var clock = ServerClock()
        Self.sample(&clock, sentAt: Self.local0, skew: skew, up: 90, down: 10)
        #expect(clock.offsetMs != skew)
        #expect(abs(clock.offsetMs - skew) <= clock.uncertaintyMs!)
        #expect(clock.uncertaintyMs == 50)
    }

    @Test func theSmallestRoundTripAmongRecentSamplesWins() {
        var clock = ServerClock(maxSamples: 4)
        let skew: Int64 = -5000
        Self.sample(&clock, sentAt: Self.local0, skew: skew, up: 400, down: 20)          // rtt 420, error 190
        Self.sample(&clock, sentAt: Self.local0 + 1000, skew: skew, up: 6, down: 4)      // rtt 10, error 1
        Self.sample(&clock, sentAt: Self.local0 + 2000, skew: skew, up: 30, down: 300)   // rtt 330
        #expect(clock.bestSample?.roundTripMs == 10)
        #expect(clock.offsetMs == skew + 1)
        // Four newer, looser samples push the tight one out of the recent set.
        for index in 0..<4 {
            Self.sample(&clock, sentAt: Self.local0 + 3000 + Int64(index) * 1000, skew: skew, up: 50, down: 30)
        }
        #expect(clock.samples.count == 4)
        #expect(clock.bestSample?.roundTripMs == 80)
        #expect(clock.offsetMs == skew + 10)
    }

    @Test func oldSamplesAgeOut() {
        var clock = ServerClock(maxSampleAgeMs: 60_000)
        Self.sample(&clock, sentAt: Self.local0, skew: 5000, up: 1, down: 1)
        Self.sample(&clock, sentAt: Self.local0 + 120_000, skew: 4000, up: 100, down: 100)
        #expect(clock.samples.count == 1)
        #expect(clock.offsetMs == 4000)
    }

    @Test func aSampleFromASteppedBackClockIsRejected() {
        var clock = ServerClock()
        let accepted = clock.observe(serverTimeMs: Self.local0, requestSentAtMs: Self.local0 + 10, responseReceivedAtMs: Self.local0)
        #expect(!accepted)
        #expect(clock.needsResync)
        #expect(clock.offsetMs == 0)
    }

    @Test func invalidationKeepsTheOffsetUntilAFreshSampleReplacesAll() {
        var clock = ServerClock()
        Self.sample(&clock, sentAt: Self.local0, skew: 5000, up: 1, down: 1)
        clock.invalidate()
        #expect(clock.needsResync)
        #expect(clock.offsetMs == 5000)
        // Looser than the old sample, but the old one is known bad.
        Self.sample(&clock, sentAt: Self.local0 + 1000, skew: -5000, up: 200, down: 200)
        #expect(!clock.needsResync)
        #expect(clock.offsetMs == -5000)
    }

    @Test func resyncFallsDueAfterTheInterval() {
        var clock = ServerClock(resyncIntervalMs: 600_000)
        #expect(clock.resyncDue(localNowMs: Self.local0))
        Self.sample(&clock, sentAt: Self.local0, skew: 5000, up: 10, down: 10)
        #expect(!clock.resyncDue(localNowMs: Self.local0 + 599_999))
        #expect(clock.resyncDue(localNowMs: Self.local0 + 20 + 600_000))
    }
}
