public import GordonDomain

/// Turns the kline stream of one (symbol, interval), which may drop, repeat or reorder
/// klines across reconnects, into every closed kline exactly once and in open-time order.
///
/// The stream is trusted for what it carries, not for completeness: a closed kline that
/// skips ahead reveals a gap, the sequencer names the missing open times, holds the
/// kline, and the caller fetches the range over REST (`GET /api/v3/klines`) and hands it to
/// `backfilled`. Open times step with `Interval.nextOpenTime(after:)`, so `1M` klines
/// follow calendar months.
///
/// Still-forming klines (`isClosed == false`) are ignored, never sequenced: they are
/// revised every few seconds and only the final one is a fact. A caller that shows live
/// candles passes them on itself. Klines of another interval or symbol are ignored too.
///
/// Held klines wait in memory until the gap before them is filled; a backfill that never
/// comes makes that buffer grow by one kline per interval, which `heldCount` exposes.
public struct ClosedKlineSequencer: Sendable {
    public enum Step: Sendable, Equatable {
        /// Hand these to the consumer, in this order (the received kline, then any held
        /// ones it made contiguous).
        case deliver([Kline])
        /// Delivered before, or already held: drop it.
        case duplicate
        /// A gap: fetch these open times (inclusive) and pass them to `backfilled`. The
        /// received kline is held. The range starts at the first missing open time, so it
        /// supersedes any range asked before.
        case needsBackfill(fromOpenTime: Int64, toOpenTime: Int64)
        /// Held behind the gap already reported by `needsBackfill` (still `pendingBackfill`);
        /// no new request is needed.
        case held
        /// Not sequenced, see `IgnoreReason`.
        case ignored(IgnoreReason)
    }

    public enum IgnoreReason: Sendable, Equatable {
        /// Still forming: only closed klines are facts.
        case notClosed
        /// Another interval, or another symbol than the first one accepted.
        case otherSeries
    }

    public let interval: Interval
    /// Pinned by `init` or by the first kline accepted.
    public private(set) var symbol: Symbol?
    /// The open time of the last kline delivered: the resume point to persist.
    public private(set) var lastDeliveredOpenTime: Int64?
    private var held: [Int64: Kline] = [:]
    private var gap: (from: Int64, to: Int64)?

    /// - Parameters:
    ///   - interval: the klines' interval, which spaces their open times.
    ///   - symbol: the one symbol accepted; nil pins the first kline's.
    ///   - lastDeliveredOpenTime: where a previous run stopped; the first kline delivered is
    ///     the one after it. Nil delivers from the first closed kline seen.
    public init(interval: Interval, symbol: Symbol? = nil, lastDeliveredOpenTime: Int64?) {
        self.interval = interval
        self.symbol = symbol
        self.lastDeliveredOpenTime = lastDeliveredOpenTime.map { interval.openTime(containing: $0) }
    }

    /// The open times still missing before the held klines, inclusive; nil when nothing is
    /// held. Ask for this range again when a backfill came back short.
    public var pendingBackfill: (from: Int64, to: Int64)? { gap }

    /// Klines received but not deliverable yet.
    public var heldCount: Int { held.count }

    /// A kline arrived from the stream.
    public mutating func receive(_ kline: Kline) -> Step {
        guard accepts(kline) else { return .ignored(.otherSeries) }
        guard kline.isClosed else { return .ignored(.notClosed) }
        symbol = kline.symbol
        let openTime = kline.openTime.milliseconds
        guard let last = lastDeliveredOpenTime else {
            lastDeliveredOpenTime = openTime
            return .deliver([kline])
        }
        if openTime <= last || held[openTime] != nil { return .duplicate }

        if openTime == interval.nextOpenTime(after: last) {
            lastDeliveredOpenTime = openTime
            let delivered = [kline] + drainContiguous()
            recomputeGap()
            return .deliver(delivered)
        }

        held[openTime] = kline
        let previous = previousOpenTime(before: openTime)
        if let gap {
            // Nothing new is missing if the kline follows a held one or falls inside the gap.
            if previous <= gap.to || held[previous] != nil { return .held }
            self.gap = (gap.from, previous)
            return .needsBackfill(fromOpenTime: gap.from, toOpenTime: previous)
        }
        let from = interval.nextOpenTime(after: last)
        gap = (from, previous)
        return .needsBackfill(fromOpenTime: from, toOpenTime: previous)
    }

    /// Klines fetched over REST for a range this sequencer asked for. Extra, repeated or
    /// already delivered klines are fine, as is a short answer (the exchange had not closed
    /// them yet): whatever is still missing stays in `pendingBackfill`. Only klines marked
    /// closed count, so a REST parser must mark the still-open last row as not closed.
    /// Returns what to deliver now, in order, including held stream klines that became contiguous.
    public mutating func backfilled(_ klines: [Kline]) -> [Kline] {
        for kline in klines where accepts(kline) && kline.isClosed {
            let openTime = kline.openTime.milliseconds
            if let last = lastDeliveredOpenTime, openTime <= last { continue }
            symbol = kline.symbol
            if held[openTime] == nil { held[openTime] = kline }
        }
        var delivered: [Kline] = []
        if lastDeliveredOpenTime == nil, let first = held.keys.min(), let kline = held.removeValue(forKey: first) {
            lastDeliveredOpenTime = first
            delivered.append(kline)
        }
        delivered += drainContiguous()
        recomputeGap()
        return delivered
    }

    private func accepts(_ kline: Kline) -> Bool {
        kline.interval == interval && (symbol == nil || kline.symbol == symbol)
    }

    private func previousOpenTime(before openTime: Int64) -> Int64 {
        interval.openTime(containing: openTime - 1)
    }

    /// Delivers held klines while they continue the delivered sequence.
    private mutating func drainContiguous() -> [Kline] {
        var delivered: [Kline] = []
        while let last = lastDeliveredOpenTime, let next = held.removeValue(forKey: interval.nextOpenTime(after: last)) {
            delivered.append(next)
            lastDeliveredOpenTime = next.openTime.milliseconds
        }
        return delivered
    }

    /// The gap after a drain: from the next open time to the last missing one below the
    /// newest held kline.
    private mutating func recomputeGap() {
        guard let last = lastDeliveredOpenTime, let newest = held.keys.max() else {
            gap = nil
            return
        }
        var lastMissing = previousOpenTime(before: newest)
        while held[lastMissing] != nil { lastMissing = previousOpenTime(before: lastMissing) }
        gap = (interval.nextOpenTime(after: last), lastMissing)
    }
}
