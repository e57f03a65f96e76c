import GordonDomain
import GordonKernel
import Testing

@Suite("ExactDecimal parsing and printing")
struct DecimalParsingTests {
    @Test(arguments: [
        ("0", "0"), ("0.00000000", "0"), ("-0", "0"), ("-0.000", "0"),
        ("0.00100000", "0.001"), ("27000.5", "27000.5"), ("27000.50000000", "27000.5"),
        ("-1.5", "-1.5"), ("0.00000001", "0.00000001"), ("99999999.99999999", "99999999.99999999"),
        ("1", "1"), ("100", "100"), ("100.0", "100"), ("007.50", "7.5"), ("-0.05", "-0.05"),
        ("123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678"),
    ])
    func parsesBinanceStrings(input: String, canonical: String) throws {
        let value = try ExactDecimal(parsing: input)
        #expect(value.description == canonical)
        #expect(try ExactDecimal(parsing: value.description) == value)
    }

    @Test func exposesNormalizedParts() throws {
        let value = try dec("0.00100000")
        #expect(value.significand == 1)
        #expect(value.scale == 3)
        let negative = try dec("-27000.50")
        #expect(negative.significand == -270005)
        #expect(negative.scale == 1)
        #expect(try dec("1000").scale == 0)
        #expect(try dec("1000").significand == 1000)
    }

    @Test(arguments: [
        "", "-", "+1", " 1", "1 ", "1.2.3", "..1", ".5", "5.", "-.5", "1e-8", "1E8", "1,5", "0x10",
        "--1", "1-", "NaN", "inf", "１", "1_000", "\u{0}", "- 1",
    ])
    func rejectsMalformedText(input: String) {
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(parsing: input) } == .invalidDecimal)
    }

    @Test func errorNamesTheInputAndExplainsExponents() {
        let error = thrownError { () throws(GordonError) in try ExactDecimal(parsing: "1e-8") }
        #expect(error?.context["value"] == "1e-8")
        #expect(error?.message.contains("exponent") == true)
    }

    @Test func acceptsThirtyEightDigitsAndRejectsThirtyNine() throws {
        let maxText = String(repeating: "9", count: 38)
        let max = try ExactDecimal(parsing: maxText)
        #expect(max.significand == ExactDecimal.maxSignificand)
        #expect(try ExactDecimal(parsing: "-" + maxText).significand == -ExactDecimal.maxSignificand)
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(parsing: "1" + String(repeating: "0", count: 38)) } == .decimalOverflow)
        #expect(try ExactDecimal(parsing: "9999999999999999999.9999999999999999999").scale == 19)
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(parsing: "99999999999999999999.9999999999999999999") } == .decimalOverflow)
        // Far beyond Int128, not just beyond 38 digits.
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(parsing: String(repeating: "7", count: 200)) } == .decimalOverflow)
    }

    @Test func limitsScaleButIgnoresTrailingZeros() throws {
        let smallest = "0." + String(repeating: "0", count: 31) + "1"
        #expect(try ExactDecimal(parsing: smallest).scale == ExactDecimal.maxScale)
        let tooSmall = "0." + String(repeating: "0", count: 32) + "1"
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(parsing: tooSmall) } == .decimalOverflow)
        let manyZeros = "1." + String(repeating: "0", count: 500)
        #expect(try ExactDecimal(parsing: manyZeros) == 1)
    }

    @Test func printsSmallAndNegativeFractionsWithLeadingZeros() {
        #expect(ExactDecimal(significand: 5, scale: 3).description == "0.005")
        #expect(ExactDecimal(significand: -5, scale: 3).description == "-0.005")
        #expect(ExactDecimal(significand: -12345, scale: 2).description == "-123.45")
        #expect(ExactDecimal(significand: 12345, scale: 5).description == "0.12345")
        #expect(ExactDecimal(significand: 0, scale: 7).description == "0")
        #expect(ExactDecimal(significand: 1500, scale: 3).description == "1.5")
    }

    @Test func equalityAndHashingIgnoreScale() throws {
        #expect(try dec("1.0") == dec("1.00"))
        #expect(try dec("1.0") == ExactDecimal(1))
        #expect(ExactDecimal(significand: 10, scale: 1) == ExactDecimal(significand: 1000, scale: 3))
        #expect(Set([try dec("1.0"), try dec("1"), try dec("1.000")]).count == 1)
        #expect(try dec("1.0").hashValue == dec("1").hashValue)
        #expect(try dec("1.01") != dec("1.1"))
    }

    @Test func ordersByValueAcrossScalesAndSigns() throws {
        let ascending = try ["-100", "-1.5", "-1.05", "-0.00000001", "0", "0.00000001", "0.1", "0.25", "1", "1.05", "27000.5", "99999999.99999999"].map(dec)
        for (index, value) in ascending.enumerated() {
            for (otherIndex, other) in ascending.enumerated() {
                #expect((value < other) == (index < otherIndex), "\(value) < \(other)")
            }
        }
        var generator = SplitMix64(seed: 7)
        #expect(ascending.shuffled(using: &generator).sorted() == ascending)
    }

    @Test func comparesValuesWhoseScaledFormWouldOverflow() throws {
        let huge = try dec(String(repeating: "9", count: 38))
        let tiny = try dec("0.00000000000000000000000000000001")
        #expect(tiny < huge)
        #expect(!(huge < tiny))
        #expect(-huge < -tiny)
        #expect(!(-tiny < -huge))
        #expect(-huge < tiny)
    }

    @Test func signHelpers() throws {
        #expect(try dec("-2.5").signum == -1)
        #expect(ExactDecimal.zero.signum == 0)
        #expect(try dec("0.1").signum == 1)
        #expect(try dec("-2.5").abs == dec("2.5"))
        #expect(try dec("2.5").abs == dec("2.5"))
        #expect(try dec("-0.1").isNegative)
        #expect(!ExactDecimal.zero.isNegative)
        #expect(ExactDecimal.zero.isZero)
        #expect(try dec("0.1").isPositive)
        #expect(ExactDecimal(-7) == -ExactDecimal(7))
        #expect(ExactDecimal(Int.min).description == String(Int.min))
    }

    @Test func doubleApproximationMatchesParsingTheText() throws {
        // The fast path (significand < 2^53, scale ≤ 22) must agree with strtod everywhere.
        var state: UInt64 = 0x1234_5678
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let significand = Int128(Int64(bitPattern: state >> 8) >> Int(state % 40))
            let value = ExactDecimal(significand: significand, scale: Int(state >> 58) % 23)
            #expect(value.doubleApproximation == Double(value.description), "\(value)")
        }
    }

    @Test func doubleApproximationIsTheNearestDouble() throws {
        #expect(try dec("0.1").doubleApproximation == 0.1)
        #expect(try dec("-27000.5").doubleApproximation == -27000.5)
        #expect(try dec("0.00000001").doubleApproximation == 1e-8)
    }
}
