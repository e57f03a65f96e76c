public import GordonKernel

/// How a value that falls between two representable results is resolved.
public enum RoundingRule: String, Sendable, Hashable, Codable, CaseIterable {
    /// Toward zero (truncation): 1.29 → 1.2, −1.29 → −1.2.
    case down
    /// Away from zero: 1.21 → 1.3, −1.21 → −1.3.
    case up
    /// Floor: 1.29 → 1.2, −1.21 → −1.3.
    case towardNegativeInfinity
    /// Ceiling: 1.21 → 1.3, −1.29 → −1.2.
    case towardPositiveInfinity
    /// Nearest; a tie goes to the even neighbour (banker's rounding): 1.25 → 1.2, 1.35 → 1.4.
    case halfEven
    /// Nearest; a tie goes away from zero: 1.25 → 1.3, −1.25 → −1.3.
    case halfUp
}

/// Where the part discarded by a division lies relative to half a unit of the result.
private enum Discarded {
    case nothing, belowHalf, half, aboveHalf
}

extension ExactDecimal {
    // MARK: Checked arithmetic

    /// The exact sum, or `decimalOverflow` when it needs more than 38 digits or `maxScale` places.
    public func adding(_ other: ExactDecimal) throws(GordonError) -> ExactDecimal {
        guard let sum = ExactDecimal.sum(self, other) else {
            throw ExactDecimal.overflow("addition", self, other)
        }
        return sum
    }

    /// The exact difference, or `decimalOverflow`.
    public func subtracting(_ other: ExactDecimal) throws(GordonError) -> ExactDecimal {
        guard let difference = ExactDecimal.sum(self, -other) else {
            throw ExactDecimal.overflow("subtraction", self, other)
        }
        return difference
    }

    /// The exact product, or `decimalOverflow` when it needs more than 38 digits or more than
    /// `maxScale` decimal places (the product of two 8-place Binance values has at most 16).
    public func multiplied(by other: ExactDecimal) throws(GordonError) -> ExactDecimal {
        guard let product = ExactDecimal.product(self, other) else {
            throw ExactDecimal.overflow("multiplication", self, other)
        }
        return product
    }

    /// `self / divisor` rounded to `scale` decimal places by `rounding`.
    ///
    /// Division by zero and a scale outside `0...maxScale` are `invalidDecimal`; a quotient
    /// too large for 38 digits is `decimalOverflow`. The rounding decision is made from the
    /// exact remainder, so a half is a half, never a binary approximation of one.
    public func divided(by divisor: ExactDecimal, scale: Int, rounding: RoundingRule) throws(GordonError) -> ExactDecimal {
        guard !divisor.isZero else {
            throw GordonError(.invalidDecimal, "division by zero", context: ["dividend": description])
        }
        guard (0...ExactDecimal.maxScale).contains(scale) else {
            throw GordonError(.invalidDecimal, "division scale must be in 0...\(ExactDecimal.maxScale)", context: ["scale": "\(scale)"])
        }
        let negative = isNegative != divisor.isNegative
        guard let (quotient, discarded, skipped) = ExactDecimal.divideMagnitudes(
                significand.magnitude, divisor.significand.magnitude,
                shift: scale + divisor.scale - self.scale, fractionDigits: scale),
              let rounded = ExactDecimal.round(quotient, discarded, negative: negative, rule: rounding),
              let result = ExactDecimal.normalized(magnitude: rounded, negative: negative, scale: scale - skipped)
        else {
            throw ExactDecimal.overflow("division", self, divisor)
        }
        return result
    }

    /// The multiple of `increment` nearest to `self` in the direction `rule` names; this is
    /// how prices meet a tick size and quantities a step size (0.123456 to 0.001, `.down`,
    /// is 0.123). The increment must be positive: Binance's "0" meaning "filter disabled"
    /// has to be handled by the caller rather than silently passing the value through.
    public func rounded(toMultipleOf increment: ExactDecimal, rule: RoundingRule) throws(GordonError) -> ExactDecimal {
        guard increment.isPositive else {
            throw GordonError(.invalidDecimal, "rounding increment must be positive", context: ["increment": increment.description])
        }
        let steps = try divided(by: increment, scale: 0, rounding: rule)
        return try steps.multiplied(by: increment)
    }

    /// `self` rounded to `scale` decimal places.
    public func rounded(scale: Int, rule: RoundingRule) throws(GordonError) -> ExactDecimal {
        try divided(by: .one, scale: scale, rounding: rule)
    }

    // MARK: Operators

    /// Exact sum; traps on overflow. Use `adding(_:)` where an input can be hostile.
    public static func + (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        guard let sum = sum(lhs, rhs) else { preconditionFailure(overflow("addition", lhs, rhs).description) }
        return sum
    }

    /// Exact difference; traps on overflow. Use `subtracting(_:)` where an input can be hostile.
    public static func - (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        guard let difference = sum(lhs, -rhs) else { preconditionFailure(overflow("subtraction", lhs, rhs).description) }
        return difference
    }

    /// Exact product; traps on overflow. Use `multiplied(by:)` where an input can be hostile.
    public static func * (lhs: ExactDecimal, rhs: ExactDecimal) -> ExactDecimal {
        guard let product = product(lhs, rhs) else { preconditionFailure(overflow("multiplication", lhs, rhs).description) }
        return product
    }

    /// Negation never overflows: the significand range is symmetric.
    public static prefix func - (operand: ExactDecimal) -> ExactDecimal {
        ExactDecimal(normalizedSignificand: -operand.significand, scale: operand.scale)
    }

    public static func += (lhs: inout ExactDecimal, rhs: ExactDecimal) { lhs = lhs + rhs }
    public static func -= (lhs: inout ExactDecimal, rhs: ExactDecimal) { lhs = lhs - rhs }
    public static func *= (lhs: inout ExactDecimal, rhs: ExactDecimal) { lhs = lhs * rhs }

    // MARK: Implementation

    private static func overflow(_ operation: String, _ lhs: ExactDecimal, _ rhs: ExactDecimal) -> GordonError {
        GordonError(.decimalOverflow, "decimal \(operation) result is not representable",
                    context: ["lhs": lhs.description, "rhs": rhs.description])
    }

    /// `magnitude × 10^exponent`, or nil if it does not fit in `UInt128`.
    private static func scaled(_ magnitude: UInt128, by exponent: Int) -> UInt128? {
        guard exponent < powersOfTen.count else { return magnitude == 0 ? 0 : nil }
        let (result, overflow) = magnitude.multipliedReportingOverflow(by: powersOfTen[exponent])
        return overflow ? nil : result
    }

    /// Sign–magnitude addition at the larger scale. Aligning in `UInt128` (3.4 × 10^38) rather
    /// than in the 38-digit range keeps sums such as `10^37 + (−0.5)` exact; when even the
    /// aligned magnitude overflows `UInt128`, the true result exceeds 38 digits as well.
    private static func sum(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> ExactDecimal? {
        let scale = max(lhs.scale, rhs.scale)
        guard let left = scaled(lhs.significand.magnitude, by: scale - lhs.scale),
              let right = scaled(rhs.significand.magnitude, by: scale - rhs.scale)
        else { return nil }
        if lhs.isNegative == rhs.isNegative {
            let (total, overflow) = left.addingReportingOverflow(right)
            return overflow ? nil : normalized(magnitude: total, negative: lhs.isNegative, scale: scale)
        }
        return left >= right
            ? normalized(magnitude: left - right, negative: lhs.isNegative, scale: scale)
            : normalized(magnitude: right - left, negative: rhs.isNegative, scale: scale)
    }

    /// The full 256-bit product, with trailing zeros stripped before the range check, so
    /// `0.5 × 0.2` is `0.1` even though the raw scale is 2.
    private static func product(_ lhs: ExactDecimal, _ rhs: ExactDecimal) -> ExactDecimal? {
        if lhs.isZero || rhs.isZero { return .zero }
        var (high, low) = lhs.significand.magnitude.multipliedFullWidth(by: rhs.significand.magnitude)
        var scale = lhs.scale + rhs.scale
        while scale > 0 {
            let (highQuotient, highRemainder) = high.quotientAndRemainder(dividingBy: 10)
            // highRemainder < 10, so this 256-by-128-bit division cannot overflow.
            let (lowQuotient, remainder) = UInt128(10).dividingFullWidth((highRemainder, low))
            guard remainder == 0 else { break }
            high = highQuotient
            low = lowQuotient
            scale -= 1
        }
        guard high == 0 else { return nil }
        return normalized(magnitude: low, negative: lhs.isNegative != rhs.isNegative, scale: scale)
    }

    /// `dividend × 10^shift / divisor` truncated, with a classification of what was cut off.
    ///
    /// A positive shift appends one decimal digit at a time by long division, each step a
    /// 256-by-128-bit division, so no intermediate ever needs more than 128 bits. Once the
    /// remainder is zero, the digits still to come are zeros; when all of them are among the
    /// last `fractionDigits` they are skipped (and counted in the third result) instead of
    /// being appended, so an exact quotient such as `10^37 / 1` at scale 2 cannot overflow.
    /// A negative shift divides the integer quotient by `10^−shift` afterwards.
    private static func divideMagnitudes(
        _ dividend: UInt128, _ divisor: UInt128, shift: Int, fractionDigits: Int
    ) -> (UInt128, Discarded, Int)? {
        var (quotient, remainder) = dividend.quotientAndRemainder(dividingBy: divisor)
        if shift >= 0 {
            for step in 0..<shift {
                if remainder == 0, shift - step <= fractionDigits {
                    return (quotient, .nothing, shift - step)
                }
                let (high, low) = remainder.multipliedFullWidth(by: 10)
                let (digit, nextRemainder) = divisor.dividingFullWidth((high, low))
                guard let shifted = scaled(quotient, by: 1) else { return nil }
                let (next, overflow) = shifted.addingReportingOverflow(digit)
                guard !overflow else { return nil }
                quotient = next
                remainder = nextRemainder
            }
            // remainder < divisor ≤ 10^38 − 1, so doubling it fits in UInt128.
            let twice = remainder * 2
            let discarded: Discarded = remainder == 0 ? .nothing
                : twice < divisor ? .belowHalf
                : twice == divisor ? .half
                : .aboveHalf
            return (quotient, discarded, 0)
        }
        // shift ≥ −maxScale (scales are never negative), so the power is in the table.
        let unit = powersOfTen[-shift]
        let (reduced, cut) = quotient.quotientAndRemainder(dividingBy: unit)
        let halfUnit = unit / 2
        let discarded: Discarded
        if cut == 0 && remainder == 0 {
            discarded = .nothing
        } else if cut < halfUnit {
            discarded = .belowHalf
        } else if cut > halfUnit {
            discarded = .aboveHalf
        } else {
            // Exactly half of the integer part was cut; any fractional remainder tips it over.
            discarded = remainder == 0 ? .half : .aboveHalf
        }
        return (reduced, discarded, 0)
    }

    /// Applies `rule` to a truncated magnitude: either keeps it or moves it one unit away
    /// from zero. Nil only if that unit overflows `UInt128`.
    private static func round(_ truncated: UInt128, _ discarded: Discarded, negative: Bool, rule: RoundingRule) -> UInt128? {
        let awayFromZero: Bool
        switch (discarded, rule) {
        case (.nothing, _), (_, .down):
            awayFromZero = false
        case (_, .up):
            awayFromZero = true
        case (_, .towardNegativeInfinity):
            awayFromZero = negative
        case (_, .towardPositiveInfinity):
            awayFromZero = !negative
        case (.belowHalf, .halfEven), (.belowHalf, .halfUp):
            awayFromZero = false
        case (.aboveHalf, .halfEven), (.aboveHalf, .halfUp), (.half, .halfUp):
            awayFromZero = true
        case (.half, .halfEven):
            awayFromZero = truncated % 2 == 1
        }
        guard awayFromZero else { return truncated }
        let (next, overflow) = truncated.addingReportingOverflow(1)
        return overflow ? nil : next
    }
}

/// Lets generic code (`reduce(.zero, +)`, `sum` helpers) treat decimals as numbers.
extension ExactDecimal: AdditiveArithmetic {}
