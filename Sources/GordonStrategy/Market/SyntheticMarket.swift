public import GordonDomain
import GordonKernel

/// A deterministic market for tests and benchmarks: the same seed gives the same bars on
/// every machine (its own xoshiro256** generator seeded through SplitMix64, IEEE
/// arithmetic only: no system randomness, no clock, no libm).
///
/// The price walks in seeded segments of five regimes:
/// - trending up / trending down: a small drift per bar plus noise (segments of 500–4000 bars);
/// - ranging: mean-reverting towards the price the segment started at (500–4000 bars);
/// - crash: a fall of 20–40% over 100–400 bars, steered to its target, volume surging;
/// - recovery: always follows a crash, regaining 40–100% of the loss over 600–3000 bars.
/// Trend directions lean back towards the start price the further the price has strayed,
/// so a million bars stay within a few orders of magnitude of it.
///
/// Dynamics are per bar, whatever the interval (they look like 1-minute bars). Each bar
/// opens at the previous close, so there are no price gaps and no time gaps; high and low
/// add a seeded wick. Prices are rounded to `priceDecimals` and at least one tick; volumes
/// are positive with 3 decimals.
public struct SyntheticMarket: Sendable {
    public enum Regime: Int, Sendable, Hashable, CaseIterable {
        case trendingUp, trendingDown, ranging, crash, recovery
    }

    public let seed: UInt64
    public let startPrice: Double
    public let priceDecimals: Int

    public init(seed: UInt64, startPrice: Double = 100, priceDecimals: Int = 2) {
        precondition((0...8).contains(priceDecimals), "priceDecimals must be 0...8")
        precondition(startPrice.isFinite && startPrice > 0, "startPrice must be positive")
        self.seed = seed
        self.startPrice = startPrice
        self.priceDecimals = priceDecimals
    }

    /// `count` bars, the first opening at `startOpenTime` (moved down to the interval's
    /// grid if it is not on it).
    public func generate(count: Int, symbol: Symbol, interval: Interval, startOpenTime: Int64) -> BarSeries {
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: priceDecimals)
        series.reserveCapacity(max(0, count))
        run(count: count, interval: interval, startOpenTime: startOpenTime) { bar, _ in series.append(bar) }
        return series
    }

    /// As `generate`, with the regime each bar was drawn in.
    public func generateWithRegimes(count: Int, symbol: Symbol, interval: Interval,
                                    startOpenTime: Int64) -> (series: BarSeries, regimes: [Regime]) {
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: priceDecimals)
        var regimes: [Regime] = []
        series.reserveCapacity(max(0, count))
        regimes.reserveCapacity(max(0, count))
        run(count: count, interval: interval, startOpenTime: startOpenTime) { bar, regime in
            series.append(bar)
            regimes.append(regime)
        }
        return (series, regimes)
    }

    // MARK: The walk

    private struct Segment {
        var regime: Regime
        var remaining: Int
        /// Per-bar drift (trends), pull strength (ranging).
        var drift: Double
        var volatility: Double
        /// Price the segment reverts to (ranging) or steers to (crash, recovery).
        var target: Double
        var volumeScale: Double
    }

    private func run(count: Int, interval: Interval, startOpenTime: Int64,
                     emit: (Bar, Regime) -> Void) {
        let count = max(0, count)
        var random = Xoshiro256StarStar(seed: seed)
        let scale = BarSeries.powersOfTen[priceDecimals]
        let tick = 1 / scale
        func rounded(_ value: Double) -> Double { max(tick, (value * scale).rounded() / scale) }

        var level = max(startPrice, tick)  // the unrounded price the walk moves
        var close = rounded(level)
        var openTime = interval.openTime(containing: startOpenTime)
        let fixedLength = interval == .oneMonth || interval == .oneWeek ? nil : interval.milliseconds
        var segment = Segment(regime: .ranging, remaining: 0, drift: 0, volatility: 0.001, target: level, volumeScale: 1)
        var lastCrashStart = level

        for _ in 0..<count {
            if segment.remaining == 0 {
                segment = nextSegment(after: segment.regime, level: level, crashStart: lastCrashStart, &random)
                if segment.regime == .crash { lastCrashStart = level }
            }
            let shock = random.normalish()
            var change: Double
            switch segment.regime {
            case .trendingUp, .trendingDown:
                change = level * (segment.drift + segment.volatility * shock)
            case .ranging:
                change = segment.drift * (segment.target - level) + level * segment.volatility * shock
            case .crash, .recovery:
                // Steer so the last bar of the segment lands on the target.
                change = (segment.target - level) / Double(segment.remaining)
                if segment.remaining > 1 { change += level * segment.volatility * shock }
            }
            // An occasional jump, either way, outside the steered regimes.
            if random.unit() < 0.0005, segment.regime != .crash, segment.regime != .recovery {
                change += level * (random.unit() < 0.5 ? -1 : 1) * (0.005 + 0.02 * random.unit())
            }
            level = max(tick / 2, level + change)
            segment.remaining -= 1

            let open = close
            close = rounded(level)
            let body = max(open, close) - min(open, close)
            let wickUnit = level * segment.volatility
            let high = rounded(max(open, close) + wickUnit * random.unit() * 1.5 + body * 0.1 * random.unit())
            let low = rounded(min(open, close) - wickUnit * random.unit() * 1.5 - body * 0.1 * random.unit())
            let activity = 1 + 40 * (body / max(level, tick))
            let volume = max(0.001, ((segment.volumeScale * activity * (0.3 + 1.4 * random.unit())) * 1000).rounded() / 1000)
            emit(Bar(openTime: openTime, open: open, high: max(high, max(open, close)), low: min(low, min(open, close)),
                     close: close, volume: volume), segment.regime)
            if let fixedLength { openTime += fixedLength } else { openTime = interval.nextOpenTime(after: openTime) }
        }
    }

    private func nextSegment(after previous: Regime, level: Double, crashStart: Double,
                             _ random: inout Xoshiro256StarStar) -> Segment {
        func between(_ low: Double, _ high: Double) -> Double { low + (high - low) * random.unit() }
        func bars(_ low: Int, _ high: Int) -> Int { low + Int(random.next() % UInt64(high - low + 1)) }
        if previous == .crash {
            let regained = between(0.4, 1.0)
            return Segment(regime: .recovery, remaining: bars(600, 3000), drift: 0, volatility: between(0.0008, 0.0016),
                           target: level + (crashStart - level) * regained, volumeScale: between(8, 14))
        }
        // Lean back towards the start price: the further above, the likelier a fall.
        let ratio = level / startPrice
        let lean = ratio >= 1 ? min(0.35, (ratio - 1) * 0.15) : -min(0.35, (1 / ratio - 1) * 0.15)
        let draw = random.unit()
        let crashChance = 0.06
        if draw < crashChance {
            return Segment(regime: .crash, remaining: bars(100, 400), drift: 0, volatility: between(0.002, 0.004),
                           target: level * (1 - between(0.20, 0.40)), volumeScale: between(25, 40))
        }
        let rest = (draw - crashChance) / (1 - crashChance)
        if rest < 0.34 {
            return Segment(regime: .ranging, remaining: bars(500, 4000), drift: between(0.005, 0.03),
                           volatility: between(0.0005, 0.0012), target: level, volumeScale: between(6, 10))
        }
        let upShare = 0.5 - lean
        let up = (rest - 0.34) / 0.66 < upShare
        let drift = between(0.00002, 0.00012)
        return Segment(regime: up ? .trendingUp : .trendingDown, remaining: bars(500, 4000), drift: up ? drift : -drift,
                       volatility: between(0.0006, 0.0015), target: level, volumeScale: between(8, 14))
    }
}

/// xoshiro256** (Blackman and Vigna), seeded by expanding one 64-bit seed through
/// SplitMix64 as its authors recommend.
private struct Xoshiro256StarStar: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next()
        s1 = mix.next()
        s2 = mix.next()
        s3 = mix.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }  // the one forbidden state; SplitMix64 never gives it
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Uniform in [0, 1), 53 random bits.
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Mean 0, variance 1, within ±3.46: the sum of four uniforms (Irwin–Hall), rescaled.
    /// Close enough to normal for prices, and needs no logarithm.
    @inline(__always)
    mutating func normalish() -> Double {
        (unit() + unit() + unit() + unit() - 2) * 1.7320508075688772
    }

    @inline(__always)
    private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 { value << count | value >> (64 - count) }
}
