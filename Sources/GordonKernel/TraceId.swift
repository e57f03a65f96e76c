/// A 128-bit trace id, written as 32 lowercase hex digits exactly as the W3C Trace Context
/// `traceparent` header carries it, so a trace started by Gordon can be followed by any
/// tracing backend. All-zero is invalid, as in the W3C spec.
public struct TraceId: Sendable, Hashable, Codable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init?(high: UInt64, low: UInt64) {
        guard high != 0 || low != 0 else { return nil }
        self.high = high
        self.low = low
    }

    public static func random() -> TraceId {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TraceId {
        while true {
            if let id = TraceId(high: generator.next(), low: generator.next()) { return id }
        }
    }

    /// Parses 32 hex digits (either case). Anything else is a `GordonError` naming the input.
    public init(parsing text: some StringProtocol) throws(GordonError) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 32,
              let high = Hex.uint64(utf8[0..<16]), let low = Hex.uint64(utf8[16..<32])
        else {
            throw GordonError(.invalidTraceId, "trace id must be 32 hex digits", context: ["value": String(text.prefix(64))])
        }
        guard let id = TraceId(high: high, low: low) else {
            throw GordonError(.invalidTraceId, "trace id must not be all zeros")
        }
        self = id
    }

    /// Extracts the trace id from a W3C `traceparent` header (`00-<trace>-<span>-<flags>`).
    public init(traceparent: some StringProtocol) throws(GordonError) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].utf8.count == 2, parts[0] != "ff",
              parts[2].utf8.count == 16, Hex.uint64(Array(parts[2].utf8)) != nil,
              parts[3].utf8.count == 2
        else {
            throw GordonError(.invalidTraceId, "malformed traceparent header", context: ["value": String(traceparent.prefix(80))])
        }
        try self.init(parsing: parts[1])
    }

    public var hex: String { Hex.string(high) + Hex.string(low) }
    public var description: String { hex }

    /// A `traceparent` header value for this trace with the given span (sampled flag set).
    public func traceparent(spanId: UInt64) -> String {
        "00-\(hex)-\(Hex.string(spanId))-01"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Fixed-width lowercase hex, shared by trace ids and (in GordonProtocol) event ids.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func string(_ value: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<16 {
            bytes[15 - index] = digits[Int((value >> (UInt64(index) * 4)) & 0xF)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func string(bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Up to 16 hex digits as a number; nil on any non-hex byte or an empty input.
    public static func uint64(_ ascii: some Collection<UInt8>) -> UInt64? {
        guard !ascii.isEmpty, ascii.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in ascii {
            guard let nibble = nibble(byte) else { return nil }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    public static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
