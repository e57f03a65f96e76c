public import GordonKernel

/// A price in the quote asset per unit of the base asset. Never negative; zero is allowed
/// because Binance reports `"0.00000000"` for prices that do not apply.
public struct Price: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let zero = Price(unchecked: .zero)

    public let value: ExactDecimal

    public init(_ value: ExactDecimal) throws(GordonError) {
        guard !value.isNegative else {
            throw GordonError(.invalidDecimal, "price must not be negative", context: ["value": value.description])
        }
        self.value = value
    }

    public init(parsing text: some StringProtocol) throws(GordonError) {
        try self.init(ExactDecimal(parsing: text))
    }

    init(unchecked value: ExactDecimal) { self.value = value }

    public var isZero: Bool { value.isZero }
    public var description: String { value.description }
    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.value < rhs.value }

    /// The price on the exchange's tick grid (`PRICE_FILTER.tickSize`).
    ///
    /// The default `.down` never makes a buy more expensive than intended; a seller who
    /// wants the same guarantee (never sell cheaper than intended) passes `.up`.
    public func rounded(toTick tick: ExactDecimal, rule: RoundingRule = .down) throws(GordonError) -> Price {
        // Rounding a non-negative value to a positive increment cannot go negative.
        Price(unchecked: try value.rounded(toMultipleOf: tick, rule: rule))
    }

    /// `price × quantity` in the quote asset, exactly.
    public func notional(for quantity: Quantity) throws(GordonError) -> ExactDecimal {
        try value.multiplied(by: quantity.value)
    }
}

/// An amount of an asset held, ordered or filled. Never negative.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let zero = Quantity(unchecked: .zero)

    public let value: ExactDecimal

    public init(_ value: ExactDecimal) throws(GordonError) {
        guard !value.isNegative else {
            throw GordonError(.invalidDecimal, "quantity must not be negative", context: ["value": value.description])
        }
        self.value = value
    }

    public init(parsing text: some StringProtocol) throws(GordonError) {
        try self.init(ExactDecimal(parsing: text))
    }

    init(unchecked value: ExactDecimal) { self.value = value }

    public var isZero: Bool { value.isZero }
    public var description: String { value.description }
    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.value < rhs.value }

    /// The quantity on the exchange's step grid (`LOT_SIZE.stepSize`).
    ///
    /// The default `.down` never rounds a quantity up into more than the caller has or
    /// meant to trade; pass another rule only where overshooting is known to be harmless.
    public func rounded(toStep step: ExactDecimal, rule: RoundingRule = .down) throws(GordonError) -> Quantity {
        Quantity(unchecked: try value.rounded(toMultipleOf: step, rule: rule))
    }

    public func adding(_ other: Quantity) throws(GordonError) -> Quantity {
        Quantity(unchecked: try value.adding(other.value))
    }

    /// `self − other`; a negative result is `invalidDecimal`, since no quantity can be.
    public func subtracting(_ other: Quantity) throws(GordonError) -> Quantity {
        try Quantity(value.subtracting(other.value))
    }

    /// `price × quantity` in the quote asset, exactly.
    public func notional(at price: Price) throws(GordonError) -> ExactDecimal {
        try price.notional(for: self)
    }
}

/// An amount of a named asset; may be negative (a loss, a debit).
///
/// Deliberately not `Comparable`: amounts of different assets have no order, and a silent
/// answer to "is 1 BTC less than 2 USDT" would be a bug. Compare `amount`s of one asset.
public struct Money: Sendable, Hashable, Codable, CustomStringConvertible {
    public let amount: ExactDecimal
    public let asset: Asset

    public init(amount: ExactDecimal, asset: Asset) {
        self.amount = amount
        self.asset = asset
    }

    public init(parsing amount: some StringProtocol, asset: Asset) throws(GordonError) {
        self.init(amount: try ExactDecimal(parsing: amount), asset: asset)
    }

    /// `"12.5 USDT"`.
    public var description: String { "\(amount) \(asset)" }
}

extension Price: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try Price(parsing: text) }
    }

    public func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}

extension Quantity: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try Quantity(parsing: text) }
    }

    public func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}
