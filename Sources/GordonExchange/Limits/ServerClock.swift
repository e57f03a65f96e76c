/// Binance's clock as seen from this machine, for the `timestamp` of signed requests and
/// for the rate-limit windows (both are judged in server time).
///
/// Each `GET /api/v3/time` gives one sample: the server read its clock somewhere between
/// our send and our receive, so, NTP-style, the offset is `serverTime − midpoint` with an
/// error of at most half the round trip (exactly zero only if both legs took equally
/// long). Among the recent samples the one with the smallest round trip is the tightest
/// bound, so that one is used. A request is accepted when `timestamp < serverTime + 1000`
/// and `serverTime − timestamp ≤ recvWindow` (rest-api.md, "Timing security"), so an error
/// of a few tens of milliseconds is harmless; seconds of skew are not, and are what this removes.
public struct ServerClock: Sendable {
    /// One time request's result.
    public struct Sample: Sendable, Equatable {
        public let offsetMs: Int64
        public let roundTripMs: Int64
        /// Local time the response arrived: how recent the sample is.
        public let receivedAtMs: Int64
    }

    /// How many of the newest samples compete for the smallest round trip.
    public let maxSamples: Int
    /// Samples older than this (measured from the newest one) no longer count: the local
    /// clock drifts and may be stepped, so an old tight sample can be worse than a new loose one.
    public let maxSampleAgeMs: Int64
    /// How often `resyncDue` asks for a new sample even when nothing failed.
    public let resyncIntervalMs: Int64
    public private(set) var samples: [Sample] = []
    private var invalidated = false

    public init(maxSamples: Int = 8, maxSampleAgeMs: Int64 = 30 * 60_000, resyncIntervalMs: Int64 = 10 * 60_000) {
        precondition(maxSamples >= 1, "maxSamples must be at least 1")
        self.maxSamples = maxSamples
        self.maxSampleAgeMs = maxSampleAgeMs
        self.resyncIntervalMs = resyncIntervalMs
    }

    /// Records one `serverTime` answer. Returns false, keeping nothing, for a sample whose
    /// response came back before its request left: the local clock stepped back mid-request.
    @discardableResult
    public mutating func observe(serverTimeMs: Int64, requestSentAtMs: Int64, responseReceivedAtMs: Int64) -> Bool {
        guard responseReceivedAtMs >= requestSentAtMs else { return false }
        let roundTrip = responseReceivedAtMs - requestSentAtMs
        let midpoint = requestSentAtMs + roundTrip / 2
        if invalidated {
            // The old samples were taken on a clock that proved wrong; start over.
            samples.removeAll()
            invalidated = false
        }
        samples.append(Sample(offsetMs: serverTimeMs - midpoint, roundTripMs: roundTrip, receivedAtMs: responseReceivedAtMs))
        samples.removeAll { responseReceivedAtMs - $0.receivedAtMs > maxSampleAgeMs || $0.receivedAtMs > responseReceivedAtMs }
        if samples.count > maxSamples { samples.removeFirst(samples.count - maxSamples) }
        return true
    }

    /// The sample in use: the smallest round trip among the recent ones (the newest on a tie).
    public var bestSample: Sample? {
        samples.reversed().min { $0.roundTripMs < $1.roundTripMs }
    }

    /// `server − local`; zero until the first sample.
    public var offsetMs: Int64 { bestSample?.offsetMs ?? 0 }

    /// The most the offset can be wrong by: half the best round trip (rounded up).
    public var uncertaintyMs: Int64? { bestSample.map { ($0.roundTripMs + 1) / 2 } }

    /// The server's clock now, for `timestamp` and for rate-limit windows.
    public func serverTime(localNowMs: Int64) -> Int64 { localNowMs + offsetMs }

    /// True before the first sample and after `invalidate()` until the next one: signed
    /// requests should wait for a sync.
    public var needsResync: Bool { samples.isEmpty || invalidated }

    /// `needsResync`, or the newest sample is older than `resyncIntervalMs`.
    public func resyncDue(localNowMs: Int64) -> Bool {
        guard !needsResync, let newest = samples.last else { return true }
        return localNowMs - newest.receivedAtMs >= resyncIntervalMs
    }

    /// After a -1021 (timestamp outside recvWindow): the offset in use is wrong. It stays in
    /// use (better than none) until the next sample, which then replaces all older ones.
    public mutating func invalidate() { invalidated = true }
}
