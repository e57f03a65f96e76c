public import GordonKernel

/// An exact base-10 number: `significand × 10^-scale`.
///
/// Prices, quantities and money in Gordon are never binary floating point: Binance states
/// every amount as a decimal string and checks filters (tick size, step size, min notional)
/// in decimal, so a `Double` would round `0.1` into something the exchange rejects.
///
/// The value is kept normalized (no trailing fractional zeros, zero has scale 0), so two
/// values are equal exactly when their stored fields are: `1.0 == 1.00`, and equal values
/// hash alike. The significand is limited to 38 digits (`±(10^38 − 1)`) so negation never
/// overflows and every bound is a power of ten; the scale is limited to `maxScale`.
/// Anything outside is `decimalOverflow`, never a silently rounded result.
public struct ExactDecimal: Sendable, Hashable {
    /// The most fractional digits a value may carry. Binance uses at most 8; 32 leaves room
    /// for products and quotients computed from them.
    public static let maxScale = 32
    /// `10^38 − 1`, the largest significand magnitude.
    public static let maxSignificand: Int128 = 99_999_999_999_999_999_999_999_999_999_999_999_999

    public static let zero = ExactDecimal(normalizedSignificand: 0, scale: 0)
    public static let one = ExactDecimal(normalizedSignificand: 1, scale: 0)

    public let significand: Int128
    public let scale: Int

    /// `powersOfTen[n] == 10^n` for every n whose power fits in `UInt128`.
    static let powersOfTen: [UInt128] = {
        var powers: [UInt128] = [1]
        for _ in 1...38 { powers.append(powers[powers.count - 1] * 10) }
        return powers
    }()

    init(normalizedSignificand: Int128, scale: Int) {
        self.significand = normalizedSignificand
        self.scale = scale
    }

    /// A value from parts the caller knows are in range, such as a literal `(5, 3)` for
    /// `0.005`. Trailing zeros are normalized away first; a significand or scale still out
    /// of range afterwards is a programming error and traps. Use `init(parsing:)` for input.
    public init(significand: Int128, scale: Int) {
        precondition(scale >= 0, "ExactDecimal scale must not be negative")
        let magnitude = significand.magnitude
        guard let value = ExactDecimal.normalized(magnitude: magnitude, negative: significand < 0, scale: scale) else {
            preconditionFailure("ExactDecimal(significand: \(significand), scale: \(scale)) is out of range")
        }
        self = value
    }

    public init(_ integer: Int) {
        self.init(normalizedSignificand: Int128(integer), scale: 0)
    }

    /// Builds a normalized value from a sign and magnitude, or nil when it cannot be
    /// represented exactly (too many digits, or more than `maxScale` significant places).
    static func normalized(magnitude: UInt128, negative: Bool, scale: Int) -> ExactDecimal? {
        guard magnitude != 0 else { return .zero }
        var magnitude = magnitude
        var scale = scale
        while scale > 0, magnitude % 10 == 0 {
            magnitude /= 10
            scale -= 1
        }
        guard scale <= maxScale, magnitude <= maxSignificand.magnitude else { return nil }
        let significand = Int128(magnitude)
        return ExactDecimal(normalizedSignificand: negative ? -significand : significand, scale: scale)
    }

    public var isZero: Bool { significand == 0 }
    public var isNegative: Bool { significand < 0 }
    public var isPositive: Bool { significand > 0 }
    /// -1, 0 or 1.
    public var signum: Int { significand == 0 ? 0 : (significand < 0 ? -1 : 1) }
    public var abs: ExactDecimal { ExactDecimal(normalizedSignificand: significand < 0 ? -significand : significand, scale: scale) }

    /// The nearest `Double`, for charts, logs and analytics only. Never feed it back into a
    /// price, a quantity or an order: it is not exact.
    public var doubleApproximation: Double {
        // A significand below 2^53 and a power of ten up to 10^22 are both exact Doubles,
        // so their quotient is the correctly rounded nearest Double (IEEE division rounds
        // once). Anything larger goes through the canonical text, which also rounds once.
        let magnitude = significand.magnitude
        if magnitude < (1 << 53), scale <= 22 {
            let value = Double(UInt64(magnitude)) / ExactDecimal.exactPowersOfTen[scale]
            return significand < 0 ? -value : value
        }
        return Double(description) ?? .nan
    }

    /// 10^0 … 10^22, each exactly representable as a Double.
    static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

// MARK: - Parsing and printing

extension ExactDecimal: CustomStringConvertible {
    /// Parses a plain decimal as Binance writes it: an optional `-`, at least one digit, and
    /// optionally a `.` followed by at least one digit (`"0.00100000"`, `"27000.5"`, `"-1.5"`).
    ///
    /// Rejected: empty text, a leading `+`, whitespace, `.5`, `5.`, more than one dot,
    /// exponents (`1e-8`: Binance never sends them, and a field that suddenly does is a
    /// format change to notice, not to absorb), and values that do not fit (`decimalOverflow`).
    /// Trailing fractional zeros are accepted in any number.
    public init(parsing text: some StringProtocol) throws(GordonError) {
        func failure(_ code: ErrorCode, _ reason: String) -> GordonError {
            let prefix = code == .decimalOverflow ? "decimal out of range" : "not a decimal"
            return GordonError(code, "\(prefix): \(reason)", context: ["value": String(text.prefix(64))])
        }
        let dash = UInt8(ascii: "-"), dot = UInt8(ascii: "."), zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        var negative = false
        var magnitude: UInt128 = 0
        var scale = 0
        var integerDigits = 0
        var fractionDigits = 0
        var sawDot = false
        // Fractional zeros are held back until a non-zero digit follows, so trailing zeros
        // never count against the digit or scale limits.
        var pendingZeros = 0
        var isFirst = true
        for byte in text.utf8 {
            defer { isFirst = false }
            switch byte {
            case dash where isFirst:
                negative = true
            case zero...nine:
                let digit = UInt128(byte - zero)
                if sawDot {
                    fractionDigits += 1
                    if digit == 0 {
                        pendingZeros += 1
                        continue
                    }
                    guard scale + pendingZeros + 1 <= ExactDecimal.maxScale else {
                        throw failure(.decimalOverflow, "more than \(ExactDecimal.maxScale) decimal places")
                    }
                    for _ in 0...pendingZeros {
                        guard let shifted = ExactDecimal.timesTen(magnitude) else {
                            throw failure(.decimalOverflow, "more than 38 significant digits")
                        }
                        magnitude = shifted
                    }
                    magnitude += digit
                    scale += pendingZeros + 1
                    pendingZeros = 0
                } else {
                    integerDigits += 1
                    guard let shifted = ExactDecimal.timesTen(magnitude) else {
                        throw failure(.decimalOverflow, "more than 38 significant digits")
                    }
                    magnitude = shifted + digit
                }
                guard magnitude <= ExactDecimal.maxSignificand.magnitude else {
                    throw failure(.decimalOverflow, "more than 38 significant digits")
                }
            case dot:
                guard !sawDot else { throw failure(.invalidDecimal, "more than one '.'") }
                guard integerDigits > 0 else { throw failure(.invalidDecimal, "no digit before '.'") }
                sawDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                throw failure(.invalidDecimal, "exponent notation is not accepted")
            default:
                throw failure(.invalidDecimal, "unexpected character")
            }
        }
        guard integerDigits > 0 else { throw failure(.invalidDecimal, "no digits") }
        guard !sawDot || fractionDigits > 0 else { throw failure(.invalidDecimal, "no digit after '.'") }
        // Every digit was checked against the limits above, so this cannot fail.
        self = ExactDecimal.normalized(magnitude: magnitude, negative: negative, scale: scale)!
    }

    /// `magnitude × 10` within the 38-digit limit, or nil.
    private static func timesTen(_ magnitude: UInt128) -> UInt128? {
        guard magnitude <= maxSignificand.magnitude / 10 else { return nil }
        return magnitude * 10
    }

    /// The canonical plain form: no exponent, no trailing fractional zeros, no `+`, and
    /// `"0"` for zero. `init(parsing:)` reads it back to the identical value.
    public var description: String {
        let digits = String(significand.magnitude)
        var text = significand < 0 ? "-" : ""
        if scale == 0 {
            text += digits
        } else if digits.count > scale {
            let split = digits.index(digits.endIndex, offsetBy: -scale)
            text += digits[..<split] + "." + digits[split...]
        } else {
            text += "0." + String(repeating: "0", count: scale - digits.count) + digits
        }
        return text
    }
}

// MARK: - Ordering

extension ExactDecimal: Comparable {
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        if lhs.scale == rhs.scale { return lhs.significand < rhs.significand }
        if lhs.signum != rhs.signum { return lhs.signum < rhs.signum }
        // Same sign, different scales: compare magnitudes at the larger scale. If scaling
        // overflows, the scaled side is the larger magnitude (the other fits in 38 digits).
        let lhsMagnitude = lhs.significand.magnitude
        let rhsMagnitude = rhs.significand.magnitude
        let lhsIsSmallerMagnitude: Bool
        if lhs.scale < rhs.scale {
            let (scaled, overflow) = lhsMagnitude.multipliedReportingOverflow(by: powersOfTen[rhs.scale - lhs.scale])
            lhsIsSmallerMagnitude = !overflow && scaled < rhsMagnitude
        } else {
            let (scaled, overflow) = rhsMagnitude.multipliedReportingOverflow(by: powersOfTen[lhs.scale - rhs.scale])
            lhsIsSmallerMagnitude = overflow || lhsMagnitude < scaled
        }
        return lhs.isNegative ? !lhsIsSmallerMagnitude : lhsIsSmallerMagnitude
    }
}

extension ExactDecimal: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}

// MARK: - Coding

extension ExactDecimal: Codable {
    /// Decimals travel as JSON strings (`"0.001"`), as Binance sends them: a JSON number
    /// would pass through binary floating point in most decoders.
    public init(from decoder: any Decoder) throws {
        self = try decoder.decodeValidatedString { text throws(GordonError) in try ExactDecimal(parsing: text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
