public import GordonDomain

/// A deterministic market for tests and benchmarks: the same seed gives the same bars on
/// every machine (its own PRNG, no system randomness, no clock).
///
/// Prices follow a geometric random walk whose drift and volatility switch between regimes
/// in seeded segments: trending up, trending down, ranging (mean-reverting to the segment's
/// start), a crash (−20…−40% over a few hundred bars) and a recovery. Each bar opens at the
/// previous close; high and low add a seeded wick; prices are rounded to `priceDecimals`
/// and stay at least one tick; volumes are positive with 3 decimals.
public struct SyntheticMarket: Sendable {
    public enum Regime: Int, Sendable, CaseIterable {
        case trendingUp, trendingDown, ranging, crash, recovery
    }

    public let seed: UInt64
    public let startPrice: Double
    public let priceDecimals: Int

    public init(seed: UInt64, startPrice: Double = 100, priceDecimals: Int = 2) {
        precondition((0...8).contains(priceDecimals), "priceDecimals must be 0...8")
        self.seed = seed
        self.startPrice = startPrice
        self.priceDecimals = priceDecimals
    }

    public func generate(count: Int, symbol: Symbol, interval: Interval, startOpenTime: Int64) -> BarSeries {
        generateWithRegimes(count: count, symbol: symbol, interval: interval, startOpenTime: startOpenTime).series
    }

    /// The bars and the regime each was drawn in.
    public func generateWithRegimes(count: Int, symbol: Symbol, interval: Interval,
                                    startOpenTime: Int64) -> (series: BarSeries, regimes: [Regime]) {
        var random = SplitMix64(seed: seed)
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: priceDecimals)
        series.reserveCapacity(count)
        var regimes: [Regime] = []
        regimes.reserveCapacity(count)
        let scale = BarSeries.powersOfTen[priceDecimals]
        let tick = 1 / scale
        func rounded(_ value: Double) -> Double { max(tick, (value * scale).rounded() / scale) }

        var close = rounded(startPrice)
        var openTime = interval.openTime(containing: startOpenTime)
        var regime = Regime.ranging
        var remaining = 0
        var drift = 0.0, volatility = 0.001, anchor = close
        while series.count < count {
            if remaining == 0 {
                (regime, remaining, drift, volatility) = Self.nextRegime(after: regime, &random)
                anchor = close
            }
            remaining -= 1
            var logReturn = drift + volatility * random.nextGaussian()
            if regime == .ranging { logReturn += 0.01 * MathFunctions.log(anchor / close) }
            let open = close
            close = rounded(open * MathFunctions.exp(logReturn))
            let wick = volatility * 0.6
            let high = rounded(max(open, close) * (1 + wick * abs(random.nextGaussian())))
            let low = max(tick, rounded(min(open, close) * (1 - wick * abs(random.nextGaussian()))))
            let volume = ((5 + 20 * random.nextUnit() * (1 + 50 * volatility)) * 1000).rounded() / 1000
            series.append(Bar(openTime: openTime, open: open, high: max(high, open, close), low: min(low, open, close),
                              close: close, volume: volume))
            regimes.append(regime)
            openTime = interval.nextOpenTime(after: openTime)
        }
        return (series, regimes)
    }

    private static func nextRegime(after current: Regime, _ random: inout SplitMix64) -> (Regime, Int, Double, Double) {
        let draw = random.nextUnit()
        let next: Regime
        if current == .crash {
            next = .recovery
        } else if draw < 0.3 {
            next = .trendingUp
        } else if draw < 0.55 {
            next = .trendingDown
        } else if draw < 0.92 {
            next = .ranging
        } else {
            next = .crash
        }
        switch next {
        case .trendingUp:
            return (next, 2_000 + Int(random.nextUnit() * 20_000), 0.00004 + 0.00008 * random.nextUnit(), 0.0012)
        case .trendingDown:
            return (next, 2_000 + Int(random.nextUnit() * 20_000), -0.00004 - 0.00008 * random.nextUnit(), 0.0014)
        case .ranging:
            return (next, 2_000 + Int(random.nextUnit() * 30_000), 0, 0.001)
        case .crash:
            // −20…−40% over 200…500 bars.
            let bars = 200 + Int(random.nextUnit() * 300)
            let total = MathFunctions.log(1 - (0.2 + 0.2 * random.nextUnit()))
            return (next, bars, total / Double(bars), 0.004)
        case .recovery:
            return (next, 3_000 + Int(random.nextUnit() * 10_000), 0.00006, 0.002)
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and the same everywhere.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by Box–Muller (one of the pair; simple and deterministic).
    mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), 0x1.0p-53), u2 = nextUnit()
        return (-2 * MathFunctions.log(u1)).squareRoot() * Self.cosine(2 * Double.pi * u2)
    }

    /// cos x for x in [0, 2π), by Taylor series after reduction to [−π, π].
    static func cosine(_ x: Double) -> Double {
        var r = x
        if r > Double.pi { r -= 2 * Double.pi }
        let r2 = r * r
        var term = 1.0, sum = 1.0
        for n in stride(from: 2, through: 40, by: 2) {
            term *= -r2 / Double((n - 1) * n)
            sum += term
        }
        return sum
    }
}
