public import GordonDomain
public import GordonKernel

/// An event id: a UUIDv7 (RFC 9562 §5.7), so ids sort by creation time and double as
/// Postgres `uuid` keys and `Nats-Msg-Id` dedup keys.
///
/// Layout, most significant bit first: 48 bits Unix milliseconds, 4 bits version (`0111`),
/// 12 bits `rand_a`, 2 bits variant (`10`), 62 bits `rand_b`. `EventIdGenerator` uses
/// `rand_a` as a counter (RFC 9562 §6.2 method 1), so the ids one generator issues are
/// strictly increasing. Comparison is numeric on the 128 bits, which is the same as
/// comparing the canonical strings.
public struct EventId: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest timestamp 48 bits hold (year 10889).
    public static let maxTimestampMilliseconds: Int64 = (1 << 48) - 1
    /// The largest `rand_a` (12 bits).
    public static let maxRandA: UInt16 = 0xFFF
    /// The largest `rand_b` (62 bits).
    public static let maxRandB: UInt64 = (1 << 62) - 1

    /// Bits 0–63: timestamp, version, `rand_a`.
    public let high: UInt64
    /// Bits 64–127: variant, `rand_b`.
    public let low: UInt64

    /// The 128 bits as they are; anything that is not a UUIDv7 (version 7, variant `10`)
    /// is `invalidEventId`.
    public init(high: UInt64, low: UInt64) throws(GordonError) {
        guard (high >> 12) & 0xF == 7 else {
            throw GordonError(.invalidEventId, "event id is not a version 7 UUID", context: ["version": "\((high >> 12) & 0xF)"])
        }
        guard low >> 62 == 0b10 else {
            throw GordonError(.invalidEventId, "event id does not have the RFC 9562 variant bits 10", context: ["variant": "\(low >> 62)"])
        }
        self.high = high
        self.low = low
    }

    /// Assembles an id from its fields; each must fit its width (`invalidEventId`).
    public init(timestampMilliseconds: Int64, randA: UInt16, randB: UInt64) throws(GordonError) {
        guard (0...EventId.maxTimestampMilliseconds).contains(timestampMilliseconds) else {
            throw GordonError(.invalidEventId, "event id timestamp must fit 48 bits", context: ["timestamp": "\(timestampMilliseconds)"])
        }
        guard randA <= EventId.maxRandA, randB <= EventId.maxRandB else {
            throw GordonError(.invalidEventId, "rand_a must fit 12 bits and rand_b 62 bits", context: ["randA": "\(randA)", "randB": "\(randB)"])
        }
        self.init(unchecked: timestampMilliseconds, randA: randA, randB: randB)
    }

    init(unchecked timestampMilliseconds: Int64, randA: UInt16, randB: UInt64) {
        high = UInt64(timestampMilliseconds) << 16 | 0x7000 | UInt64(randA)
        low = 1 << 63 | randB
    }

    /// Parses the 8-4-4-4-12 hex form in either case; anything else (no dashes, braces, a
    /// `urn:uuid:` prefix, another UUID version) is `invalidEventId`.
    public init(parsing text: some StringProtocol) throws(GordonError) {
        let bytes = Array(text.utf8)
        let dashes = [8, 13, 18, 23]
        guard bytes.count == 36, dashes.allSatisfy({ bytes[$0] == UInt8(ascii: "-") }) else {
            throw GordonError(.invalidEventId, "event id must be a UUID in 8-4-4-4-12 form", context: ["value": Text.quoted(text, limit: 64)])
        }
        let digits = bytes.enumerated().filter { !dashes.contains($0.offset) }.map(\.element)
        guard let high = Hex.uint64(digits[0..<16]), let low = Hex.uint64(digits[16..<32]) else {
            throw GordonError(.invalidEventId, "event id must be hex digits", context: ["value": Text.quoted(text, limit: 64)])
        }
        try self.init(high: high, low: low)
    }

    public var timestampMilliseconds: Int64 { Int64(high >> 16) }
    public var timestamp: Timestamp { Timestamp(milliseconds: timestampMilliseconds) }
    /// Always 7.
    public var version: Int { Int((high >> 12) & 0xF) }
    public var randA: UInt16 { UInt16(high & 0xFFF) }
    public var randB: UInt64 { low & EventId.maxRandB }

    /// The 16 bytes in network order, as RFC 9562 lays them out.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// Lower-case 8-4-4-4-12, e.g. `01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d`.
    public var string: String {
        let hex = Array((Hex.string(high) + Hex.string(low)).utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, digit) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { string }

    public static func < (lhs: EventId, rhs: EventId) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension EventId: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.validatedString { text throws(GordonError) in try EventId(parsing: text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}
