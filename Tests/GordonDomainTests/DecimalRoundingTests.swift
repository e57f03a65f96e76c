import GordonDomain
import GordonKernel
import Testing

@Suite("Rounding rules, tick and step sizes")
struct DecimalRoundingTests {
    /// The classic table (as in java.math.RoundingMode): input → result for each rule.
    static let inputs = ["5.5", "2.5", "1.6", "1.1", "1.0", "-1.0", "-1.1", "-1.6", "-2.5", "-5.5"]
    static let table: [(RoundingRule, [Int])] = [
        (.up, [6, 3, 2, 2, 1, -1, -2, -2, -3, -6]),
        (.down, [5, 2, 1, 1, 1, -1, -1, -1, -2, -5]),
        (.towardPositiveInfinity, [6, 3, 2, 2, 1, -1, -1, -1, -2, -5]),
        (.towardNegativeInfinity, [5, 2, 1, 1, 1, -1, -2, -2, -3, -6]),
        (.halfUp, [6, 3, 2, 1, 1, -1, -1, -2, -3, -6]),
        (.halfEven, [6, 2, 2, 1, 1, -1, -1, -2, -2, -6]),
    ]

    @Test func tableCoversEveryRule() {
        #expect(Set(Self.table.map(\.0)) == Set(RoundingRule.allCases))
    }

    @Test(arguments: table)
    func roundsToIntegers(rule: RoundingRule, expected: [Int]) throws {
        for (input, result) in zip(Self.inputs, expected) {
            let value = try dec(input)
            #expect(try value.rounded(toMultipleOf: 1, rule: rule) == ExactDecimal(result), "\(input) \(rule)")
            #expect(try value.rounded(scale: 0, rule: rule) == ExactDecimal(result), "\(input) \(rule)")
        }
    }

    @Test(arguments: table)
    func roundsAtFractionalScalesTheSameWay(rule: RoundingRule, expected: [Int]) throws {
        // The same digits shifted five places right, rounded to a step of 0.00001.
        let step = try dec("0.00001")
        for (input, result) in zip(Self.inputs, expected) {
            let value = try dec(input).divided(by: 100_000, scale: 6, rounding: .down)
            #expect(try value.rounded(toMultipleOf: step, rule: rule) == ExactDecimal(significand: Int128(result), scale: 5))
            #expect(try value.rounded(scale: 5, rule: rule) == ExactDecimal(significand: Int128(result), scale: 5))
        }
    }

    @Test func exactMultiplesAreUnchangedByEveryRule() throws {
        for rule in RoundingRule.allCases {
            #expect(try dec("0.123").rounded(toMultipleOf: dec("0.001"), rule: rule) == dec("0.123"))
            #expect(try dec("-1.25").rounded(toMultipleOf: dec("0.05"), rule: rule) == dec("-1.25"))
            #expect(try ExactDecimal.zero.rounded(toMultipleOf: dec("0.01"), rule: rule) == .zero)
        }
    }

    @Test func stepSizeExamples() throws {
        #expect(try dec("0.123456").rounded(toMultipleOf: dec("0.001"), rule: .down) == dec("0.123"))
        #expect(try dec("0.123456").rounded(toMultipleOf: dec("0.001"), rule: .up) == dec("0.124"))
        #expect(try dec("0.123456789").rounded(toMultipleOf: dec("0.00001000"), rule: .down) == dec("0.12345"))
        #expect(try dec("1.23").rounded(toMultipleOf: dec("0.05"), rule: .down) == dec("1.2"))
        #expect(try dec("1.23").rounded(toMultipleOf: dec("0.05"), rule: .halfEven) == dec("1.25"))
        #expect(try dec("1.225").rounded(toMultipleOf: dec("0.05"), rule: .halfEven) == dec("1.2"))
        #expect(try dec("1.275").rounded(toMultipleOf: dec("0.05"), rule: .halfEven) == dec("1.3"))
        #expect(try dec("1234.5").rounded(toMultipleOf: 10, rule: .halfUp) == 1230)
        #expect(try dec("1235").rounded(toMultipleOf: 10, rule: .halfUp) == 1240)
    }

    @Test func priceTickAndQuantityStep() throws {
        #expect(try price("27000.57").rounded(toTick: dec("0.1")) == price("27000.5"))
        #expect(try price("27000.57").rounded(toTick: dec("0.1"), rule: .up) == price("27000.6"))
        #expect(try price("0.00000049").rounded(toTick: dec("0.00000010")) == price("0.0000004"))
        #expect(try qty("0.99999999").rounded(toStep: dec("0.001")) == qty("0.999"))
        #expect(try qty("0.0009").rounded(toStep: dec("0.001")) == .zero)
        #expect(try qty("5").rounded(toStep: dec("1")) == qty("5"))
    }

    @Test func incrementMustBePositive() throws {
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(1).rounded(toMultipleOf: .zero, rule: .down) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(1).rounded(toMultipleOf: dec("-0.1"), rule: .down) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try price("1.5").rounded(toTick: .zero) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try qty("1.5").rounded(toStep: .zero) } == .invalidDecimal)
    }
}
