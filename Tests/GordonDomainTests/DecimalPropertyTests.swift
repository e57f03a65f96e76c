import GordonDomain
import GordonKernel
import Testing

/// Seeded random checks: the same seed gives the same cases on every run and machine.
@Suite("ExactDecimal properties")
struct DecimalPropertyTests {
    static let iterations = 2_000

    /// Up to 18 significant digits and 16 places, so sums, products and quotients of two
    /// such values always fit and every property below must hold exactly.
    static func randomDecimal(_ generator: inout SplitMix64) -> ExactDecimal {
        let digits = Int.random(in: 1...18, using: &generator)
        var magnitude: Int128 = 0
        for _ in 0..<digits { magnitude = magnitude * 10 + Int128(Int.random(in: 0...9, using: &generator)) }
        let scale = Int.random(in: 0...16, using: &generator)
        return ExactDecimal(significand: Bool.random(using: &generator) ? -magnitude : magnitude, scale: scale)
    }

    @Test func descriptionRoundTrips() throws {
        var generator = SplitMix64(seed: 0x5EED_0001)
        for _ in 0..<Self.iterations {
            let value = Self.randomDecimal(&generator)
            let parsed = try ExactDecimal(parsing: value.description)
            #expect(parsed == value)
            #expect(parsed.scale == value.scale)
            #expect(parsed.significand == value.significand)
        }
    }

    @Test func additionAndSubtractionInvert() throws {
        var generator = SplitMix64(seed: 0x5EED_0002)
        for _ in 0..<Self.iterations {
            let a = Self.randomDecimal(&generator), b = Self.randomDecimal(&generator)
            #expect(try a.adding(b).subtracting(b) == a, "\(a) \(b)")
            #expect(a + b == b + a)
            #expect((a - b).isNegative == (a < b))
            #expect((a - b).isZero == (a == b))
        }
    }

    @Test func multiplicationAndDivisionInvert() throws {
        var generator = SplitMix64(seed: 0x5EED_0003)
        for _ in 0..<Self.iterations {
            let a = Self.randomDecimal(&generator), b = Self.randomDecimal(&generator)
            guard !b.isZero else { continue }
            let product = try a.multiplied(by: b)
            #expect(product == b * a)
            #expect(try product.divided(by: b, scale: a.scale, rounding: .down) == a, "\(a) \(b)")
        }
    }

    @Test func comparisonMatchesTheSignOfTheDifference() {
        var generator = SplitMix64(seed: 0x5EED_0004)
        for _ in 0..<Self.iterations {
            let a = Self.randomDecimal(&generator), b = Self.randomDecimal(&generator)
            #expect((a < b) == (b - a).isPositive)
            #expect((a < b) != (b < a) || a == b)
        }
    }

    /// Every rule lands on a multiple of the increment, less than one increment away,
    /// on the side the rule names.
    @Test(arguments: RoundingRule.allCases)
    func roundingLandsOnTheGridOnTheRightSide(rule: RoundingRule) throws {
        var generator = SplitMix64(seed: 0x5EED_0005 &+ UInt64(RoundingRule.allCases.firstIndex(of: rule)!))
        let increments = try ["0.00000001", "0.001", "0.05", "0.25", "1", "5", "0.00000250"].map(dec)
        for _ in 0..<Self.iterations {
            let value = Self.randomDecimal(&generator)
            let increment = increments[Int.random(in: 0..<increments.count, using: &generator)]
            let rounded = try value.rounded(toMultipleOf: increment, rule: rule)
            let steps = try rounded.divided(by: increment, scale: 0, rounding: .down)
            #expect(steps * increment == rounded, "\(rounded) is not a multiple of \(increment)")
            let error = rounded - value
            #expect(error.abs < increment)
            switch rule {
            case .down: #expect(rounded.abs <= value.abs)
            case .up: #expect(rounded.abs >= value.abs)
            case .towardNegativeInfinity: #expect(rounded <= value)
            case .towardPositiveInfinity: #expect(rounded >= value)
            case .halfUp, .halfEven: #expect(error.abs * 2 <= increment)
            }
        }
    }
}
