@testable import GordonStrategy
import GordonKernel
import Testing

// MARK: - Helpers

/// |a − b| ≤ tolerance·max(1, |b|).
private func near(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-12) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a - b) <= tolerance * max(1, abs(b))
}

private func bar(_ high: Double, _ low: Double, _ close: Double, volume: Double = 0, open: Double? = nil) -> Bar {
    Bar(openTime: 0, open: open ?? close, high: high, low: low, close: close, volume: volume)
}

/// Feeds `inputs` one at a time.
private func stream<Input, Output>(_ inputs: [Input], _ step: (Input) -> Output?) -> [Output?] {
    inputs.map(step)
}

extension SplitMix64 {
    /// Uniform in [−1, 1).
    fileprivate mutating func signed() -> Double { 2 * unit() - 1 }
}

/// A seeded random walk of `count` bars, with a flat stretch (identical bars: constant
/// windows, zero ranges) and a stretch of zero volume, so the edge branches run too.
private func randomWalk(_ count: Int, seed: UInt64 = 42) -> [Bar] {
    var random = SplitMix64(seed: seed)
    var bars: [Bar] = []
    bars.reserveCapacity(count)
    var close = 100.0
    for index in 0..<count {
        let open = close
        if (2000..<2040).contains(index) {
            bars.append(Bar(openTime: Int64(index), open: close, high: close, low: close, close: close, volume: 5))
            continue
        }
        if random.unit() >= 0.05 { close *= 1 + 0.01 * random.signed() }  // 5%: unchanged close
        let high = max(open, close) * (1 + 0.004 * random.unit())
        let low = min(open, close) * (1 - 0.004 * random.unit())
        let zeroVolume = (1000..<1030).contains(index) || random.unit() < 0.03
        let volume = zeroVolume ? 0 : 1000 * random.unit()
        bars.append(Bar(openTime: Int64(index), open: open, high: high, low: low, close: close, volume: volume))
    }
    return bars
}

/// Streaming equals batch to 1e-9 relative, element by element, and both start at `warmUp − 1`.
private func expectStreamingMatchesBatch<V>(
    _ name: String, streamed: [V?], batch: [V?], warmUp: Int, _ components: (V) -> [Double],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(streamed.count == batch.count, "\(name): lengths", sourceLocation: sourceLocation)
    #expect(streamed.firstIndex { $0 != nil } == warmUp - 1, "\(name): streaming warm-up", sourceLocation: sourceLocation)
    #expect(batch.firstIndex { $0 != nil } == warmUp - 1, "\(name): batch warm-up", sourceLocation: sourceLocation)
    var mismatches = 0
    for index in streamed.indices {
        switch (streamed[index], batch[index]) {
        case (nil, nil): continue
        case let (a?, b?):
            let (ca, cb) = (components(a), components(b))
            if !zip(ca, cb).allSatisfy({ near($0, $1, 1e-9) }) {
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(name) [\(index)]: streaming \(ca) vs batch \(cb)", sourceLocation: sourceLocation) }
            }
        default:
            mismatches += 1
            if mismatches <= 3 { Issue.record("\(name) [\(index)]: nil in one series only", sourceLocation: sourceLocation) }
        }
    }
    #expect(mismatches == 0, "\(name): \(mismatches) mismatches", sourceLocation: sourceLocation)
}

// MARK: - Hand-computed values

@Suite struct IndicatorValueTests {
    @Test func sma() {
        // SMA(3) of 1, 2, 3, 4: nil, nil, (1+2+3)/3 = 2, (2+3+4)/3 = 3.
        var sma = SMA(period: 3)
        #expect(stream([1.0, 2, 3, 4]) { sma.update($0) } == [nil, nil, 2, 3])
        #expect(SMA.batch([1, 2, 3, 4], period: 3) == [nil, nil, 2, 3])
        #expect(sma.value == 3 && sma.warmUp == 3)
    }

    @Test func ema() {
        // EMA(3): α = 2/4 = 0.5. Inputs 2, 4, 6, 8, 4: seed SMA(2,4,6) = 4 at index 2;
        // index 3: 4 + 0.5·(8 − 4) = 6; index 4: 6 + 0.5·(4 − 6) = 5.
        var ema = EMA(period: 3)
        #expect(stream([2.0, 4, 6, 8, 4]) { ema.update($0) } == [nil, nil, 4, 6, 5])
        #expect(EMA.batch([2, 4, 6, 8, 4], period: 3) == [nil, nil, 4, 6, 5])
    }

    @Test func wma() {
        // WMA(3), weights 1,2,3 over 6: 3,1,4 → (3+2+12)/6 = 17/6; 1,4,1 → (1+8+3)/6 = 2;
        // 4,1,5 → (4+2+15)/6 = 3.5.
        var wma = WMA(period: 3)
        let values = stream([3.0, 1, 4, 1, 5]) { wma.update($0) }
        let expected: [Double?] = [nil, nil, 17.0 / 6, 2, 3.5]
        #expect(zip(values, expected).allSatisfy { near($0, $1) })
        #expect(zip(WMA.batch([3, 1, 4, 1, 5], period: 3), expected).allSatisfy { near($0, $1) })
    }

    @Test func rsi() {
        // RSI(3) of 10, 11, 10.5, 12, 11: changes +1, −0.5, +1.5, −1.
        // Index 3: avg gain (1+0+1.5)/3 = 5/6, avg loss 0.5/3 = 1/6, RS 5, RSI 100 − 100/6 = 83.33…
        // Index 4: gain (5/6·2 + 0)/3 = 5/9, loss (1/6·2 + 1)/3 = 4/9, RS 1.25, RSI 100 − 100/2.25 = 55.55…
        var rsi = RSI(period: 3)
        let values = stream([10.0, 11, 10.5, 12, 11]) { rsi.update($0) }
        let expected: [Double?] = [nil, nil, nil, 100 - 100.0 / 6, 100 - 100 / 2.25]
        #expect(zip(values, expected).allSatisfy { near($0, $1) })
        #expect(rsi.warmUp == 4)
        // Only gains: loss 0 → 100. Flat: both 0 → 50.
        var rising = RSI(period: 2)
        #expect(stream([1.0, 2, 3]) { rising.update($0) }.last == 100)
        var flat = RSI(period: 2)
        #expect(stream([5.0, 5, 5]) { flat.update($0) }.last == 50)
        #expect(RSI.batch([5, 5, 5], period: 2) == [nil, nil, 50])
    }

    @Test func macd() {
        // MACD(2, 3, 2) of 1, 2, 3, 4, 8. EMA2 (α 2/3): seed 1.5 at 1, then 2.5, 3.5, 3.5 + 2/3·4.5 = 6.5.
        // EMA3 (α 1/2): seed 2 at 2, then 3, 3 + 0.5·5 = 5.5. MACD: 0.5 (2), 0.5 (3), 1 (4).
        // Signal EMA2: seed (0.5+0.5)/2 = 0.5 at 3, then 0.5 + 2/3·0.5 = 5/6 at 4; histogram 1/6.
        var macd = MACD(fast: 2, slow: 3, signal: 2)
        let values = stream([1.0, 2, 3, 4, 8]) { macd.update($0) }
        #expect(values[0...2].allSatisfy { $0 == nil })
        #expect(near(values[3]?.macd, 0.5) && near(values[3]?.signal, 0.5) && near(values[3]?.histogram, 0))
        #expect(near(values[4]?.macd, 1) && near(values[4]?.signal, 5.0 / 6) && near(values[4]?.histogram, 1.0 / 6))
        #expect(macd.warmUp == 4)
    }

    @Test func bollinger() {
        // Bollinger(3, 2) of 1, 2, 3: mean 2, population σ = √(2/3) = 0.8164965809…;
        // bands 2 ± 2σ; bandwidth 4σ/2 = 2σ; %b at 3 = (1 + 2σ)/(4σ) = 0.5 + 0.25/σ.
        var bands = BollingerBands(period: 3, multiplier: 2)
        let values = stream([1.0, 2, 3]) { bands.update($0) }
        let sigma = (2.0 / 3).squareRoot()
        let last = values[2]!
        #expect(values[0] == nil && values[1] == nil)
        #expect(near(last.middle, 2) && near(last.upper, 2 + 2 * sigma) && near(last.lower, 2 - 2 * sigma))
        #expect(near(last.bandwidth, 2 * sigma) && near(last.percentB, 0.5 + 0.25 / sigma))
        // Zero width: %b 0.5, bandwidth 0.
        var flat = BollingerBands(period: 2)
        #expect(stream([4.0, 4]) { flat.update($0) }.last == BollingerValue(middle: 4, upper: 4, lower: 4, bandwidth: 0, percentB: 0.5))
    }

    @Test func atr() {
        // ATR(3), Wilder. TR: bar 0 h−l = 2; bar 1 max(2, |11−9|, |9−9|) = 2;
        // bar 2 max(1, |13−10.5|, |12−10.5|) = 2.5; bar 3 max(1, |12−12.5|, |11−12.5|) = 1.5.
        // ATR at 2: (2+2+2.5)/3 = 13/6; at 3: (13/6·2 + 1.5)/3 = 35/18.
        let bars = [bar(10, 8, 9), bar(11, 9, 10.5), bar(13, 12, 12.5), bar(12, 11, 11)]
        var atr = ATR(period: 3)
        let values = stream(bars) { atr.update($0) }
        let expected: [Double?] = [nil, nil, 13.0 / 6, 35.0 / 18]
        #expect(zip(values, expected).allSatisfy { near($0, $1) })
        #expect(zip(ATR.batch(bars, period: 3), expected).allSatisfy { near($0, $1) })
    }

    @Test func adx() {
        // ADX(2). From bar 1: (+DM, −DM, TR) = (2, 0, 3), (1, 0, 3), (0, 2, 4.5), (0, 1, 3).
        // Bar 2: sums sTR 6, s+ 3, s− 0 → +DI 50, −DI 0, DX 100.
        // Bar 3: sTR 6 − 3 + 4.5 = 7.5, s+ 1.5, s− 2 → +DI 20, −DI 80/3, DX 100·(20/3)/(140/3) = 100/7;
        //        ADX = (100 + 100/7)/2 = 400/7.
        // Bar 4: sTR 7.5 − 3.75 + 3 = 6.75, s+ 0.75, s− 2 − 1 + 1 = 2 → +DI 100/9, −DI 800/27,
        //        DX 100·(500/27)/(1100/27) = 500/11; ADX = (400/7 + 500/11)/2 = 7900/154.
        let bars = [bar(10, 8, 9), bar(12, 9, 11), bar(13, 10, 12), bar(12.5, 8, 9), bar(10, 7, 8)]
        var adx = ADX(period: 2)
        let values = stream(bars) { adx.update($0) }
        #expect(values[0...2].allSatisfy { $0 == nil })
        #expect(near(values[3]?.adx, 400.0 / 7) && near(values[3]?.plusDI, 20) && near(values[3]?.minusDI, 80.0 / 3))
        #expect(near(values[4]?.adx, 7900.0 / 154) && near(values[4]?.plusDI, 100.0 / 9) && near(values[4]?.minusDI, 800.0 / 27))
        #expect(adx.warmUp == 4)
    }

    @Test func stochastic() {
        // Stochastic(2, 2, 2). Raw %K: bar 1 HH 11 LL 8 → 100·2/3; bar 2 HH 12 LL 9 → 100/3;
        // bar 3 HH 12 LL 7 → 100·1/5 = 20. %K: bar 2 (200/3 + 100/3)/2 = 50, bar 3 (100/3 + 20)/2 = 80/3.
        // %D at bar 3: (50 + 80/3)/2 = 115/3.
        let bars = [bar(10, 8, 9), bar(11, 9, 10), bar(12, 10, 10), bar(11, 7, 8)]
        var stochastic = Stochastic(kPeriod: 2, kSmoothing: 2, dPeriod: 2)
        let values = stream(bars) { stochastic.update($0) }
        #expect(values[0...2].allSatisfy { $0 == nil })
        #expect(near(values[3]?.k, 80.0 / 3) && near(values[3]?.d, 115.0 / 3))
        // A zero range gives raw %K 50.
        var flat = Stochastic(kPeriod: 1, kSmoothing: 1, dPeriod: 1)
        #expect(flat.update(bar(5, 5, 5)) == StochasticValue(k: 50, d: 50))
    }

    @Test func donchian() {
        // Donchian(3): highs 10, 11, 12, 11 and lows 8, 9, 10, 7, current bar included.
        // Bar 2: upper 12, lower 8, middle 10; bar 3: upper 12, lower 7, middle 9.5.
        let bars = [bar(10, 8, 9), bar(11, 9, 10), bar(12, 10, 11), bar(11, 7, 8)]
        var donchian = Donchian(period: 3)
        let values = stream(bars) { donchian.update($0) }
        #expect(values == [nil, nil, DonchianValue(upper: 12, lower: 8, middle: 10), DonchianValue(upper: 12, lower: 7, middle: 9.5)])
        #expect(Donchian.batch(bars, period: 3) == values)
    }

    @Test func keltner() {
        // Keltner(EMA 2, ATR 2, ×2). TR 2, 2, max(3, |13−10|, |10−10|) = 3. EMA2 of 9, 10, 12:
        // 9.5, then 9.5 + 2/3·2.5 = 11.1667. ATR2: 2, then (2 + 3)/2 = 2.5.
        // Bar 1: 9.5 ± 4 → 13.5 / 5.5; bar 2: 11.1667 ± 5.
        let bars = [bar(10, 8, 9), bar(11, 9, 10), bar(13, 10, 12)]
        var keltner = Keltner(emaPeriod: 2, atrPeriod: 2, multiplier: 2)
        let values = stream(bars) { keltner.update($0) }
        let middle = 9.5 + 2.0 / 3 * 2.5
        #expect(values[0] == nil)
        #expect(values[1] == KeltnerValue(middle: 9.5, upper: 13.5, lower: 5.5))
        #expect(near(values[2]?.middle, middle) && near(values[2]?.upper, middle + 5) && near(values[2]?.lower, middle - 5))
    }

    @Test func supertrend() {
        // Supertrend(2, ×1). TR: 2, 2, 2, max(4, 1, 5) = 5, max(2, 2.5, 0.5) = 2.5, max(2, 6, 4) = 6.
        // ATR2: 2 (bar 1), 2, 3.5, 3, 4.5.
        // Bar 1: hl2 10, bands 12/8 → up, line 8.
        // Bar 2: hl2 11, basic 13/9; upper stays 12 (13 ≥ 12, prev close 10 ≤ 12); lower 9 > 8 → 9. Up, line 9.
        // Bar 3: hl2 8, basic 11.5/4.5; upper 11.5 < 12 → 11.5; lower stays 9; close 6.5 < 9 → down, line 11.5.
        // Bar 4: hl2 8, basic 11/5; upper 11; prev close 6.5 < 9 → lower 5; close 8 ≤ 11: down, line 11.
        // Bar 5: hl2 13, basic 17.5/8.5; upper stays 11; lower 8.5; close 13.5 > 11 → up, line 8.5.
        let bars = [bar(10, 8, 9), bar(11, 9, 10), bar(12, 10, 11), bar(10, 6, 6.5), bar(9, 7, 8), bar(14, 12, 13.5)]
        var supertrend = Supertrend(period: 2, multiplier: 1)
        let values = stream(bars) { supertrend.update($0) }
        let expected: [SupertrendValue?] = [nil, .init(line: 8, isUptrend: true), .init(line: 9, isUptrend: true),
                                            .init(line: 11.5, isUptrend: false), .init(line: 11, isUptrend: false),
                                            .init(line: 8.5, isUptrend: true)]
        #expect(values == expected)
        #expect(Supertrend.batch(bars, period: 2, multiplier: 1) == expected)
    }

    @Test func zScore() {
        // Z(3) of 1, 2, 3: mean 2, population σ √(2/3), z = 1/σ = √1.5. A constant window: 0.
        var zScore = RollingZScore(period: 3)
        let values = stream([1.0, 2, 3, 3, 3]) { zScore.update($0) }
        #expect(values[0] == nil && values[1] == nil)
        #expect(near(values[2], 1.5.squareRoot()))
        // Window 2, 3, 3: mean 8/3, σ = √(((2/3)² + 2·(1/3)²)/3) = √(2/9); z = (1/3)/√(2/9) = 1/√2.
        #expect(near(values[3], 0.5.squareRoot()))
        #expect(values[4] == 0)
    }

    @Test func rollingVolatility() {
        // Vol(2) of 1, 2, 1, 2: log returns ln2, −ln2, ln2; the sample σ of (ln2, −ln2) is
        // √((ln2)² + (ln2)²)/1) = √2·ln2 = 0.98025814346854…; of 1, 2, 4 (returns ln2, ln2): 0.
        let ln2 = 0.693_147_180_559_945_3
        var volatility = RollingVolatility(period: 2)
        let values = stream([1.0, 2, 1, 2]) { volatility.update($0) }
        #expect(values[0] == nil && values[1] == nil)
        #expect(near(values[2], 2.0.squareRoot() * ln2) && near(values[3], 2.0.squareRoot() * ln2))
        #expect(RollingVolatility.batch([1, 2, 4], period: 2) == [nil, nil, 0])
        #expect(volatility.warmUp == 3)
    }

    @Test func obv() {
        // Closes 10, 11, 11, 9, 12 with volumes 100…500: 0, +200, =, −400, +500 → 0, 200, 200, −200, 300.
        let bars = [bar(10, 10, 10, volume: 100), bar(11, 11, 11, volume: 200), bar(11, 11, 11, volume: 300),
                    bar(9, 9, 9, volume: 400), bar(12, 12, 12, volume: 500)]
        var obv = OBV()
        #expect(stream(bars) { obv.update($0) } == [0, 200, 200, -200, 300])
        #expect(OBV.batch(bars) == [0, 200, 200, -200, 300])
    }

    @Test func vwap() {
        // VWAP(2). Typical prices 10 (v 100), 12 (v 300), 12 (v 0), 14 (v 0).
        // Bar 1: (10·100 + 12·300)/400 = 11.5; bar 2: (12·300 + 0)/300 = 12; bar 3: volume 0 → (12 + 14)/2 = 13.
        let bars = [bar(11, 9, 10, volume: 100), bar(13, 11, 12, volume: 300), bar(12, 12, 12, volume: 0),
                    bar(15, 13, 14, volume: 0)]
        var vwap = VWAP(period: 2)
        #expect(stream(bars) { vwap.update($0) } == [nil, 11.5, 12, 13])
        #expect(VWAP.batch(bars, period: 2) == [nil, 11.5, 12, 13])
    }

    @Test func naturalLogarithm() {
        #expect(near(MathFunctions.log(2), 0.693_147_180_559_945_3, 1e-15))
        #expect(near(MathFunctions.log(1.1), 0.095_310_179_804_324_86, 1e-15))
        #expect(near(MathFunctions.log(0.9), -0.105_360_515_657_826_3, 1e-15))
        #expect(near(MathFunctions.log(1e-300), -690.775_527_898_213_7, 1e-15))
        #expect(MathFunctions.log(1) == 0)
    }

    @Test func rollingExtremumMatchesAScan() {
        var random = SplitMix64(seed: 7)
        let xs = (0..<2000).map { _ in (random.signed() * 10).rounded() }  // many ties
        for period in [1, 2, 5, 17] {
            var highest = RollingExtreme(period: period, maximum: true)
            var lowest = RollingExtreme(period: period, maximum: false)
            for index in xs.indices {
                highest.push(xs[index])
                lowest.push(xs[index])
                let window = xs[max(0, index - period + 1)...index]
                #expect(highest.value == window.max()! && lowest.value == window.min()!)
            }
        }
    }
}

// MARK: - Streaming equals batch

@Suite struct IndicatorStreamingTests {
    static let bars = randomWalk(5000)
    static let closes = bars.map(\.close)

    @Test(arguments: [1, 2, 14, 50])
    func movingAverages(period: Int) {
        var sma = SMA(period: period), ema = EMA(period: period), wma = WMA(period: period)
        expectStreamingMatchesBatch("SMA(\(period))", streamed: stream(Self.closes) { sma.update($0) },
                                    batch: SMA.batch(Self.closes, period: period), warmUp: sma.warmUp) { [$0] }
        expectStreamingMatchesBatch("EMA(\(period))", streamed: stream(Self.closes) { ema.update($0) },
                                    batch: EMA.batch(Self.closes, period: period), warmUp: ema.warmUp) { [$0] }
        expectStreamingMatchesBatch("WMA(\(period))", streamed: stream(Self.closes) { wma.update($0) },
                                    batch: WMA.batch(Self.closes, period: period), warmUp: wma.warmUp) { [$0] }
    }

    @Test(arguments: [1, 2, 14, 20])
    func closeOscillators(period: Int) {
        var rsi = RSI(period: period)
        expectStreamingMatchesBatch("RSI(\(period))", streamed: stream(Self.closes) { rsi.update($0) },
                                    batch: RSI.batch(Self.closes, period: period), warmUp: rsi.warmUp) { [$0] }
        var bands = BollingerBands(period: period, multiplier: 2)
        expectStreamingMatchesBatch("Bollinger(\(period))", streamed: stream(Self.closes) { bands.update($0) },
                                    batch: BollingerBands.batch(Self.closes, period: period, multiplier: 2),
                                    warmUp: bands.warmUp) { [$0.middle, $0.upper, $0.lower, $0.bandwidth, $0.percentB] }
        var zScore = RollingZScore(period: period)
        expectStreamingMatchesBatch("ZScore(\(period))", streamed: stream(Self.closes) { zScore.update($0) },
                                    batch: RollingZScore.batch(Self.closes, period: period), warmUp: zScore.warmUp) { [$0] }
        var volatility = RollingVolatility(period: period)
        expectStreamingMatchesBatch("Volatility(\(period))", streamed: stream(Self.closes) { volatility.update($0) },
                                    batch: RollingVolatility.batch(Self.closes, period: period),
                                    warmUp: volatility.warmUp) { [$0] }
    }

    @Test(arguments: [(12, 26, 9), (2, 3, 2), (1, 5, 1)])
    func macd(fast: Int, slow: Int, signal: Int) {
        var macd = MACD(fast: fast, slow: slow, signal: signal)
        expectStreamingMatchesBatch("MACD(\(fast),\(slow),\(signal))", streamed: stream(Self.closes) { macd.update($0) },
                                    batch: MACD.batch(Self.closes, fast: fast, slow: slow, signal: signal),
                                    warmUp: macd.warmUp) { [$0.macd, $0.signal, $0.histogram] }
        #expect(macd.warmUp == slow - 1 + signal - 1 + 1)
    }

    @Test(arguments: [1, 3, 14, 20])
    func barIndicators(period: Int) {
        let bars = Self.bars
        var atr = ATR(period: period)
        expectStreamingMatchesBatch("ATR(\(period))", streamed: stream(bars) { atr.update($0) },
                                    batch: ATR.batch(bars, period: period), warmUp: atr.warmUp) { [$0] }
        var adx = ADX(period: period)
        expectStreamingMatchesBatch("ADX(\(period))", streamed: stream(bars) { adx.update($0) },
                                    batch: ADX.batch(bars, period: period), warmUp: adx.warmUp) { [$0.adx, $0.plusDI, $0.minusDI] }
        var donchian = Donchian(period: period)
        expectStreamingMatchesBatch("Donchian(\(period))", streamed: stream(bars) { donchian.update($0) },
                                    batch: Donchian.batch(bars, period: period), warmUp: donchian.warmUp) { [$0.upper, $0.lower, $0.middle] }
        var supertrend = Supertrend(period: period, multiplier: 3)
        expectStreamingMatchesBatch("Supertrend(\(period))", streamed: stream(bars) { supertrend.update($0) },
                                    batch: Supertrend.batch(bars, period: period, multiplier: 3),
                                    warmUp: supertrend.warmUp) { [$0.line, $0.isUptrend ? 1 : 0] }
        var vwap = VWAP(period: period)
        expectStreamingMatchesBatch("VWAP(\(period))", streamed: stream(bars) { vwap.update($0) },
                                    batch: VWAP.batch(bars, period: period), warmUp: vwap.warmUp) { [$0] }
    }

    @Test(arguments: [(14, 3, 3), (1, 1, 1), (5, 1, 4)])
    func stochastic(kPeriod: Int, kSmoothing: Int, dPeriod: Int) {
        var stochastic = Stochastic(kPeriod: kPeriod, kSmoothing: kSmoothing, dPeriod: dPeriod)
        expectStreamingMatchesBatch("Stochastic(\(kPeriod),\(kSmoothing),\(dPeriod))", streamed: stream(Self.bars) { stochastic.update($0) },
                                    batch: Stochastic.batch(Self.bars, kPeriod: kPeriod, kSmoothing: kSmoothing, dPeriod: dPeriod),
                                    warmUp: stochastic.warmUp) { [$0.k, $0.d] }
    }

    @Test(arguments: [(20, 10), (10, 20), (1, 1)])
    func keltner(emaPeriod: Int, atrPeriod: Int) {
        var keltner = Keltner(emaPeriod: emaPeriod, atrPeriod: atrPeriod, multiplier: 2)
        expectStreamingMatchesBatch("Keltner(\(emaPeriod),\(atrPeriod))", streamed: stream(Self.bars) { keltner.update($0) },
                                    batch: Keltner.batch(Self.bars, emaPeriod: emaPeriod, atrPeriod: atrPeriod, multiplier: 2),
                                    warmUp: keltner.warmUp) { [$0.middle, $0.upper, $0.lower] }
    }

    @Test func obv() {
        var obv = OBV()
        expectStreamingMatchesBatch("OBV", streamed: stream(Self.bars) { obv.update($0) }, batch: OBV.batch(Self.bars),
                                    warmUp: obv.warmUp) { [$0] }
    }
}

// MARK: - No drift

@Suite struct IndicatorDriftTests {
    @Test func smaAndZScoreDoNotDriftOverAMillionUpdates() {
        let period = 50
        var random = SplitMix64(seed: 2024)
        var sma = SMA(period: period)
        var zScore = RollingZScore(period: period)
        var window: [Double] = []
        var x = 1_000_000.0  // a large level makes cancellation in running sums visible
        var lastSMA: Double?, lastZ: Double?
        for _ in 0..<1_000_000 {
            x += random.signed()
            lastSMA = sma.update(x)
            lastZ = zScore.update(x)
            window.append(x)
            if window.count > 4 * period { window.removeFirst(window.count - period) }
        }
        let last = Array(window.suffix(period))
        let mean = last.reduce(0, +) / Double(period)
        let sigma = (last.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(period)).squareRoot()
        #expect(near(lastSMA, mean, 1e-9))
        #expect(near(lastZ, (x - mean) / sigma, 1e-9))
    }
}
