public import GordonDomain
public import GordonKernel
public import GordonProtocol

/// The event a closed kline becomes, the same every time it is made: its event id (and so its
/// `Nats-Msg-Id`) comes from (symbol, interval, open time), so publishing it again after a
/// crash is recognised by the stream as a duplicate instead of stored twice.
public enum KlineEvents {
    /// Throws only for an open time outside a UUIDv7's 48-bit millisecond range.
    public static func envelope(_ kline: Kline) throws(GordonError) -> EventEnvelope<KlineEvent> {
        let key = "\(kline.symbol.rawValue)@\(kline.interval.rawValue)"
        let time = kline.openTime.milliseconds
        return EventEnvelope(eventId: try DeterministicIds.eventId(time: time, key: key), traceId: DeterministicIds.traceId(time: time, key: key),
                             source: .data, occurredAt: kline.closeTime, payload: KlineEvent(kline))
    }
}

/// Ids that are the same every time an event is made from the same data: a UUIDv7 whose
/// time is the data's time and whose random bits are a hash of its key.
enum DeterministicIds {
    static func eventId(time: Int64, key: String) throws(GordonError) -> EventId {
        let hash = fnv1a(key)
        return try EventId(timestampMilliseconds: time, randA: UInt16(truncatingIfNeeded: hash >> 52) & EventId.maxRandA,
                           randB: hash & EventId.maxRandB)
    }

    static func traceId(time: Int64, key: String) -> TraceId {
        TraceId(high: fnv1a(key) | 1, low: UInt64(bitPattern: time)) ?? TraceId.random()
    }

    /// FNV-1a: stable across processes and versions, unlike `Hasher`.
    static func fnv1a(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
