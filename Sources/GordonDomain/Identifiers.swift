public import GordonKernel

/// A bot's identifier: `^[a-z0-9][a-z0-9_-]{0,62}$`.
///
/// It is a NATS subject token (`gordon.intent.<bot>`) and a database key, so it can hold
/// no `.` (token separator), no `*` or `>` (wildcards), no whitespace and no upper case
/// (two ids differing only in case would be two bots to Postgres and one to a human).
public struct BotId: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: some StringProtocol) throws(GordonError) {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count),
              BotId.isLeading(bytes[0]),
              bytes.dropFirst().allSatisfy({ BotId.isLeading($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw GordonError(.invalidIdentifier, "bot id must match ^[a-z0-9][a-z0-9_-]{0,62}$", context: ["value": String(text.prefix(80))])
        }
        self.rawValue = String(text)
    }

    private static func isLeading(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    public var description: String { rawValue }
    public static func < (lhs: BotId, rhs: BotId) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An order's client id, Binance's `newClientOrderId`: `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
///
/// Gordon uses it as the idempotency key of an order (the executor sets it to the intent
/// id), so a value Binance would reject must be refused before it is ever sent.
public struct ClientOrderId: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: some StringProtocol) throws(GordonError) {
        try self.init(String(text))
    }

    /// The concrete form: validating through the generic `StringProtocol` path costs a
    /// witness call per byte, and the executor and backtester make one id per order.
    public init(_ text: String) throws(GordonError) {
        guard (1...36).contains(text.utf8.count), text.utf8.allSatisfy(ClientOrderId.isAllowed) else {
            throw GordonError(.invalidIdentifier, "client order id must match ^[.A-Z:/a-z0-9_-]{1,36}$", context: ["value": String(text.prefix(80))])
        }
        self.rawValue = text
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    public var description: String { rawValue }
    public static func < (lhs: ClientOrderId, rhs: ClientOrderId) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension BotId: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try BotId(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension ClientOrderId: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try ClientOrderId(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
