public import GordonKernel

/// A Binance asset code such as `BTC`, `USDT` or `1000SATS`: 1–20 characters of `A-Z0-9`.
public struct Asset: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(_ text: some StringProtocol) throws(GordonError) {
        guard (1...20).contains(text.utf8.count), text.utf8.allSatisfy(isUppercaseAlphanumeric) else {
            throw GordonError(.invalidSymbol, "asset must be 1-20 characters A-Z0-9", context: ["value": String(text.prefix(64))])
        }
        self.rawValue = String(text)
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static let btc = Asset(unchecked: "BTC")
    public static let eth = Asset(unchecked: "ETH")
    public static let bnb = Asset(unchecked: "BNB")
    public static let usdt = Asset(unchecked: "USDT")
    public static let usdc = Asset(unchecked: "USDC")
    public static let fdusd = Asset(unchecked: "FDUSD")

    public var description: String { rawValue }
    public static func < (lhs: Asset, rhs: Asset) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A Binance spot trading pair such as `BTCUSDT`.
///
/// Binance allows `^[A-Z0-9-_.]{1,20}$`; Gordon accepts only `A-Z0-9` with 2–20 characters,
/// because symbols become NATS subject tokens and database keys where `.`, `-` and `_`
/// would be ambiguous. Equality, hashing and coding use `rawValue` alone.
public struct Symbol: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Quote assets recognised when splitting a bare symbol, tried longest first so that
    /// `BTCFDUSD` is BTC/FDUSD and `BTCEURI` is BTC/EURI, not …/USD or …/EUR. A symbol
    /// whose quote is not listed keeps `base` and `quote` nil rather than guessing. The split
    /// is a convenience; where money depends on it, build the symbol with
    /// `init(base:quote:)` from the exchange's own `baseAsset`/`quoteAsset`.
    public static let knownQuoteAssets: [String] = [
        "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDP", "AEUR", "EURI", "BIDR", "IDRT",
        "DAI", "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE",
        "EUR", "GBP", "AUD", "TRY", "BRL", "JPY", "ARS", "MXN", "PLN", "RON", "ZAR", "UAH", "COP", "CZK",
    ].sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }

    public let rawValue: String
    public let base: Asset?
    public let quote: Asset?

    public init(_ text: some StringProtocol) throws(GordonError) {
        guard (2...20).contains(text.utf8.count), text.utf8.allSatisfy(isUppercaseAlphanumeric) else {
            throw GordonError(.invalidSymbol, "symbol must be 2-20 characters A-Z0-9", context: ["value": String(text.prefix(64))])
        }
        let rawValue = String(text)
        self.rawValue = rawValue
        if let quote = Symbol.knownQuoteAssets.first(where: { rawValue.count > $0.count && rawValue.hasSuffix($0) }) {
            self.base = Asset(unchecked: String(rawValue.dropLast(quote.count)))
            self.quote = Asset(unchecked: quote)
        } else {
            self.base = nil
            self.quote = nil
        }
    }

    /// The pair `base + quote`; both parts are known even when the quote is not listed.
    public init(base: Asset, quote: Asset) throws(GordonError) {
        let rawValue = base.rawValue + quote.rawValue
        guard rawValue.utf8.count <= 20 else {
            throw GordonError(.invalidSymbol, "symbol must be at most 20 characters", context: ["value": rawValue])
        }
        self.rawValue = rawValue
        self.base = base
        self.quote = quote
    }

    public var description: String { rawValue }
    public static func == (lhs: Symbol, rhs: Symbol) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public static func < (lhs: Symbol, rhs: Symbol) -> Bool { lhs.rawValue < rhs.rawValue }
}

func isUppercaseAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

extension Asset: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try Asset(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Symbol: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try Symbol(text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
