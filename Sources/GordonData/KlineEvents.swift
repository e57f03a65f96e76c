public import GordonDomain
public import GordonKernel
public import GordonProtocol

/// The event a closed kline becomes, the same every time it is made: its event id (and so its
/// `Nats-Msg-Id`) comes from (symbol, interval, open time), so publishing it again after a
/// crash is recognised by the stream as a duplicate instead of stored twice.
public enum KlineEvents {
    /// Throws only for an open time outside a UUIDv7's 48-bit millisecond range.
    public static func envelope(_ kline: Kline) throws(GordonError) -> EventEnvelope<KlineEvent> {
        let series = seriesHash(kline.symbol, kline.interval)
        // A UUIDv7 whose time is the open time and whose random bits are the series' hash.
        let eventId = try EventId(timestampMilliseconds: kline.openTime.milliseconds,
                                  randA: UInt16(truncatingIfNeeded: series >> 52) & EventId.maxRandA, randB: series & EventId.maxRandB)
        let traceId = TraceId(high: series | 1, low: UInt64(bitPattern: kline.openTime.milliseconds)) ?? TraceId.random()
        return EventEnvelope(eventId: eventId, traceId: traceId, source: .data, occurredAt: kline.closeTime, payload: KlineEvent(kline))
    }

    /// FNV-1a of "SYMBOL@interval": stable across processes and versions, unlike `Hasher`.
    static func seriesHash(_ symbol: Symbol, _ interval: Interval) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(symbol.rawValue)@\(interval.rawValue)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
