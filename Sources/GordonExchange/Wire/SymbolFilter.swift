public import GordonDomain

/// One entry of `filters` / `exchangeFilters` in GET /api/v3/exchangeInfo (filters.md).
///
/// The filters Gordon enforces before sending an order are typed; every other filter type
/// (ICEBERG_PARTS, MAX_NUM_ORDERS, TRAILING_DELTA, PERCENT_PRICE, exchange filters, types
/// Binance adds later) decodes into `.other` and re-encodes to the same JSON, so a new
/// filter never breaks reading exchangeInfo.
public enum SymbolFilter: Sendable, Hashable {
    case priceFilter(minPrice: ExactDecimal, maxPrice: ExactDecimal, tickSize: ExactDecimal)
    case lotSize(minQty: ExactDecimal, maxQty: ExactDecimal, stepSize: ExactDecimal)
    case marketLotSize(minQty: ExactDecimal, maxQty: ExactDecimal, stepSize: ExactDecimal)
    case minNotional(minNotional: ExactDecimal, applyToMarket: Bool, avgPriceMins: Int)
    case notional(minNotional: ExactDecimal, applyMinToMarket: Bool, maxNotional: ExactDecimal, applyMaxToMarket: Bool, avgPriceMins: Int)
    case percentPriceBySide(bidMultiplierUp: ExactDecimal, bidMultiplierDown: ExactDecimal,
                            askMultiplierUp: ExactDecimal, askMultiplierDown: ExactDecimal, avgPriceMins: Int)
    /// Any other filter. JSON strings are kept verbatim, JSON integers as their digits and
    /// booleans as `true`/`false`. Encoding writes a value of only digits (optionally
    /// negative) as a JSON integer, `true`/`false` as a boolean and everything else as a
    /// string; Binance writes counts as integers and decimals as strings that always hold
    /// a `.`, so every documented filter round-trips to its own JSON types. Fields that are
    /// neither (null, arrays, objects, fractional JSON numbers) are dropped, not fatal.
    case other(filterType: String, fields: [String: String])

    /// Binance's `filterType`.
    public var filterType: String {
        switch self {
        case .priceFilter: "PRICE_FILTER"
        case .lotSize: "LOT_SIZE"
        case .marketLotSize: "MARKET_LOT_SIZE"
        case .minNotional: "MIN_NOTIONAL"
        case .notional: "NOTIONAL"
        case .percentPriceBySide: "PERCENT_PRICE_BY_SIDE"
        case .other(let filterType, _): filterType
        }
    }

    /// Binance prints the price, quantity and notional bounds with 8 places.
    static let decimalPlaces = 8
}

extension SymbolFilter: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func decimal(_ name: String) throws -> ExactDecimal { try container.decode(ExactDecimal.self, forKey: Key(name)) }
        func flag(_ name: String) throws -> Bool { try container.decode(Bool.self, forKey: Key(name)) }
        func integer(_ name: String) throws -> Int { try container.decode(Int.self, forKey: Key(name)) }

        let filterType = try container.decode(String.self, forKey: Key("filterType"))
        switch filterType {
        case "PRICE_FILTER":
            self = .priceFilter(minPrice: try decimal("minPrice"), maxPrice: try decimal("maxPrice"), tickSize: try decimal("tickSize"))
        case "LOT_SIZE":
            self = .lotSize(minQty: try decimal("minQty"), maxQty: try decimal("maxQty"), stepSize: try decimal("stepSize"))
        case "MARKET_LOT_SIZE":
            self = .marketLotSize(minQty: try decimal("minQty"), maxQty: try decimal("maxQty"), stepSize: try decimal("stepSize"))
        case "MIN_NOTIONAL":
            self = .minNotional(minNotional: try decimal("minNotional"), applyToMarket: try flag("applyToMarket"),
                                avgPriceMins: try integer("avgPriceMins"))
        case "NOTIONAL":
            self = .notional(minNotional: try decimal("minNotional"), applyMinToMarket: try flag("applyMinToMarket"),
                             maxNotional: try decimal("maxNotional"), applyMaxToMarket: try flag("applyMaxToMarket"),
                             avgPriceMins: try integer("avgPriceMins"))
        case "PERCENT_PRICE_BY_SIDE":
            self = .percentPriceBySide(bidMultiplierUp: try decimal("bidMultiplierUp"), bidMultiplierDown: try decimal("bidMultiplierDown"),
                                       askMultiplierUp: try decimal("askMultiplierUp"), askMultiplierDown: try decimal("askMultiplierDown"),
                                       avgPriceMins: try integer("avgPriceMins"))
        default:
            var fields: [String: String] = [:]
            for key in container.allKeys where key.stringValue != "filterType" {
                if let text = try? container.decode(String.self, forKey: key) {
                    fields[key.stringValue] = text
                } else if let flag = try? container.decode(Bool.self, forKey: key) {
                    fields[key.stringValue] = flag ? "true" : "false"
                } else if let number = try? container.decode(Int64.self, forKey: key) {
                    fields[key.stringValue] = String(number)
                }
            }
            self = .other(filterType: filterType, fields: fields)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        func decimal(_ value: ExactDecimal, _ name: String) throws {
            try container.encode(BinanceDecimal.format(value, places: SymbolFilter.decimalPlaces), forKey: Key(name))
        }
        try container.encode(filterType, forKey: Key("filterType"))
        switch self {
        case .priceFilter(let minPrice, let maxPrice, let tickSize):
            try decimal(minPrice, "minPrice")
            try decimal(maxPrice, "maxPrice")
            try decimal(tickSize, "tickSize")
        case .lotSize(let minQty, let maxQty, let stepSize), .marketLotSize(let minQty, let maxQty, let stepSize):
            try decimal(minQty, "minQty")
            try decimal(maxQty, "maxQty")
            try decimal(stepSize, "stepSize")
        case .minNotional(let minNotional, let applyToMarket, let avgPriceMins):
            try decimal(minNotional, "minNotional")
            try container.encode(applyToMarket, forKey: Key("applyToMarket"))
            try container.encode(avgPriceMins, forKey: Key("avgPriceMins"))
        case .notional(let minNotional, let applyMinToMarket, let maxNotional, let applyMaxToMarket, let avgPriceMins):
            try decimal(minNotional, "minNotional")
            try container.encode(applyMinToMarket, forKey: Key("applyMinToMarket"))
            try decimal(maxNotional, "maxNotional")
            try container.encode(applyMaxToMarket, forKey: Key("applyMaxToMarket"))
            try container.encode(avgPriceMins, forKey: Key("avgPriceMins"))
        case .percentPriceBySide(let bidUp, let bidDown, let askUp, let askDown, let avgPriceMins):
            // Binance prints the multipliers as short decimals ("1.2", "5"), not padded.
            try container.encode(bidUp.description, forKey: Key("bidMultiplierUp"))
            try container.encode(bidDown.description, forKey: Key("bidMultiplierDown"))
            try container.encode(askUp.description, forKey: Key("askMultiplierUp"))
            try container.encode(askDown.description, forKey: Key("askMultiplierDown"))
            try container.encode(avgPriceMins, forKey: Key("avgPriceMins"))
        case .other(_, let fields):
            for name in fields.keys.sorted() where name != "filterType" {
                let value = fields[name]!
                if value == "true" || value == "false" {
                    try container.encode(value == "true", forKey: Key(name))
                } else if SymbolFilter.isJSONInteger(value), let number = Int64(value) {
                    try container.encode(number, forKey: Key(name))
                } else {
                    try container.encode(value, forKey: Key(name))
                }
            }
        }
    }

    private static func isJSONInteger(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
