import GordonKernel
import GordonDomain
import GordonExchange
import Testing

@Suite("ClosedKlineSequencer")
struct ClosedKlineSequencerTests {
    static let symbol = try! Symbol("BTCUSDT")
    /// 2024-01-01T00:00:00Z.
    static let t0: Int64 = 1_704_067_200_000

    static func kline(_ openTime: Int64, interval: Interval = .oneMinute, closed: Bool = true, symbol: Symbol = symbol) -> Kline {
        let price = try! Price(parsing: "100.5")
        return try! Kline(symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: openTime),
                          closeTime: Timestamp(milliseconds: interval.closeTime(forOpenTime: openTime)),
                          open: price, high: price, low: price, close: price, volume: try! Quantity(parsing: "1"),
                          quoteVolume: 100, trades: 1, takerBuyBaseVolume: 0, takerBuyQuoteVolume: 0, isClosed: closed)
    }

    static func series(_ count: Int, interval: Interval = .oneMinute, from start: Int64 = t0) -> [Kline] {
        var openTime = start
        return (0..<count).map { _ in
            defer { openTime = interval.nextOpenTime(after: openTime) }
            return kline(openTime, interval: interval)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 2024])
    func randomDropsDuplicatesAndReorderingsYieldTheSeriesOnceInOrder(seed: UInt64) {
        let full = Self.series(2000)
        var random = SplitMix64(seed: seed)
        // The stream as delivered: drops (single and reconnect-sized runs), repeats, swaps.
        var stream: [Kline] = []
        var index = 0
        while index < full.count {
            if index < full.count - 1, random.chance(8) {
                index += random.chance(70) ? 1 : Int.random(in: 2...40, using: &random)
                continue
            }
            stream.append(full[index])
            if random.chance(5) { stream.append(full[index]) }
            if random.chance(3), index > 0 { stream.append(full[Int.random(in: max(0, index - 50)..<index, using: &random)]) }
            index += 1
        }
        for position in stream.indices.dropLast() where random.chance(5) { stream.swapAt(position, position + 1) }
        if stream.last != full.last { stream.append(full.last!) }

        // The first kline may have been dropped: resume from just before the series.
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: Self.t0 - 60_000)
        var delivered: [Kline] = []
        var requests: [(from: Int64, to: Int64)] = []
        func answer(_ request: (from: Int64, to: Int64)) {
            var rows = full.filter { $0.openTime.milliseconds >= request.from && $0.openTime.milliseconds <= request.to }
            if random.chance(30) { rows = Array(rows.prefix(Int.random(in: 0...rows.count, using: &random))) }  // short
            if random.chance(30) { rows += full.filter { $0.openTime.milliseconds < request.from }.suffix(3) }    // already delivered
            if random.chance(30) { rows += full.filter { $0.openTime.milliseconds > request.to }.prefix(3) }      // extra
            if random.chance(20) { rows.append(Self.kline(request.to + 60_000, closed: false)) }                 // still forming
            delivered += sequencer.backfilled(rows)
        }
        for kline in stream {
            switch sequencer.receive(kline) {
            case .deliver(let klines): delivered += klines
            case .needsBackfill(let from, let to): requests.append((from, to))
            case .duplicate, .held: break
            case .ignored: Issue.record("a closed kline of the series was ignored")
            }
            // Answer some requests late, as a slow REST call would.
            if !requests.isEmpty, random.chance(40) { answer(requests.removeFirst()) }
            if requests.isEmpty, let pending = sequencer.pendingBackfill, random.chance(20) { requests.append(pending) }
        }
        var rounds = 0
        while let pending = sequencer.pendingBackfill, rounds < 10_000 {
            answer(pending)
            rounds += 1
        }
        #expect(sequencer.pendingBackfill == nil)
        #expect(sequencer.heldCount == 0)
        // Compared piecewise so that a failure names one kline, not two arrays of 2,000.
        #expect(delivered.count == full.count)
        let firstMismatch = delivered.indices.first { $0 >= full.count || delivered[$0] != full[$0] }
        #expect(firstMismatch == nil, "first wrong kline at \(String(describing: firstMismatch))")
        #expect(sequencer.lastDeliveredOpenTime == full.last!.openTime.milliseconds)
    }

    @Test func deliversFromTheFirstKlineSeenWithoutAResumePoint() {
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: nil)
        let klines = Self.series(3, from: Self.t0 + 600_000)
        let step1 = sequencer.receive(klines[0])
        #expect(step1 == .deliver([klines[0]]))
        let step2 = sequencer.receive(klines[1])
        #expect(step2 == .deliver([klines[1]]))
        let step3 = sequencer.receive(klines[0])
        #expect(step3 == .duplicate)
        let step4 = sequencer.receive(klines[2])
        #expect(step4 == .deliver([klines[2]]))
    }

    @Test func resumesAfterTheLastDeliveredOpenTime() {
        let full = Self.series(10)
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: full[4].openTime.milliseconds)
        let step1 = sequencer.receive(full[3])
        #expect(step1 == .duplicate)
        let step2 = sequencer.receive(full[4])
        #expect(step2 == .duplicate)
        let step3 = sequencer.receive(full[8])
        #expect(step3 == .needsBackfill(fromOpenTime: full[5].openTime.milliseconds, toOpenTime: full[7].openTime.milliseconds))
        let step4 = sequencer.receive(full[9])
        #expect(step4 == .held)
        let step5 = sequencer.backfilled(Array(full[2...7]))
        #expect(step5 == Array(full[5...9]))
        #expect(sequencer.pendingBackfill == nil)
        #expect(sequencer.lastDeliveredOpenTime == full[9].openTime.milliseconds)
    }

    @Test func aShortBackfillKeepsTheRestOfTheGapPending() {
        let full = Self.series(12)
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: full[0].openTime.milliseconds)
        let step1 = sequencer.receive(full[10])
        #expect(step1 == .needsBackfill(fromOpenTime: full[1].openTime.milliseconds, toOpenTime: full[9].openTime.milliseconds))
        let step2 = sequencer.backfilled(Array(full[1...4]))
        #expect(step2 == Array(full[1...4]))
        let pending = sequencer.pendingBackfill
        #expect(pending?.from == full[5].openTime.milliseconds)
        #expect(pending?.to == full[9].openTime.milliseconds)
        let step3 = sequencer.backfilled([])
        #expect(step3 == [])
        #expect(sequencer.pendingBackfill?.from == full[5].openTime.milliseconds)
        let step4 = sequencer.backfilled(Array(full[5...9]))
        #expect(step4 == Array(full[5...10]))
        #expect(sequencer.pendingBackfill == nil)
        let step5 = sequencer.receive(full[11])
        #expect(step5 == .deliver([full[11]]))
    }

    @Test func aSecondGapWidensTheRequestedRange() {
        let full = Self.series(10)
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: full[0].openTime.milliseconds)
        let step1 = sequencer.receive(full[3])
        #expect(step1 == .needsBackfill(fromOpenTime: full[1].openTime.milliseconds, toOpenTime: full[2].openTime.milliseconds))
        let step2 = sequencer.receive(full[4])
        #expect(step2 == .held)
        let step3 = sequencer.receive(full[7])
        #expect(step3 == .needsBackfill(fromOpenTime: full[1].openTime.milliseconds, toOpenTime: full[6].openTime.milliseconds))
        let step4 = sequencer.receive(full[2])
        #expect(step4 == .held)
        let step5 = sequencer.receive(full[1])
        #expect(step5 == .deliver(Array(full[1...4])))
        #expect(sequencer.pendingBackfill?.from == full[5].openTime.milliseconds)
        #expect(sequencer.pendingBackfill?.to == full[6].openTime.milliseconds)
    }

    @Test func stillFormingAndForeignKlinesAreIgnored() {
        let full = Self.series(3)
        var sequencer = ClosedKlineSequencer(interval: .oneMinute, lastDeliveredOpenTime: nil)
        let step1 = sequencer.receive(Self.kline(full[0].openTime.milliseconds, closed: false))
        #expect(step1 == .ignored(.notClosed))
        #expect(sequencer.lastDeliveredOpenTime == nil)
        let step2 = sequencer.receive(full[0])
        #expect(step2 == .deliver([full[0]]))
        let step3 = sequencer.receive(Self.kline(Self.t0, interval: .fiveMinutes))
        #expect(step3 == .ignored(.otherSeries))
        let step4 = sequencer.receive(Self.kline(full[1].openTime.milliseconds, symbol: try! Symbol("ETHUSDT")))
        #expect(step4 == .ignored(.otherSeries))
        let step5 = sequencer.backfilled([Self.kline(full[1].openTime.milliseconds, closed: false)])
        #expect(step5 == [])
        let step6 = sequencer.receive(full[1])
        #expect(step6 == .deliver([full[1]]))
    }

    @Test func monthlyKlinesFollowCalendarMonths() {
        // 2023-11 … 2024-04: 30, 31, 31, 29 (leap February), 31 days.
        let full = Self.series(6, interval: .oneMonth, from: 1_698_796_800_000)
        #expect(full[3].openTime.description == "2024-02-01T00:00:00.000Z")
        var sequencer = ClosedKlineSequencer(interval: .oneMonth, lastDeliveredOpenTime: full[0].openTime.milliseconds)
        let step1 = sequencer.receive(full[1])
        #expect(step1 == .deliver([full[1]]))
        let step2 = sequencer.receive(full[5])
        #expect(step2 == .needsBackfill(fromOpenTime: full[2].openTime.milliseconds, toOpenTime: full[4].openTime.milliseconds))
        let step3 = sequencer.backfilled(Array(full[2...4]))
        #expect(step3 == Array(full[2...5]))
    }
}
