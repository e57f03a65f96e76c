import GordonDomain
import GordonKernel
import Testing

@Suite("ExactDecimal arithmetic")
struct DecimalArithmeticTests {
    @Test func additionIsExact() throws {
        #expect(try dec("0.1") + dec("0.2") == dec("0.3"))
        #expect(try dec("0.1").adding(dec("0.2")) == dec("0.3"))
        #expect(try dec("1") - dec("0.00000001") == dec("0.99999999"))
        #expect(try dec("0.15") + dec("0.05") == dec("0.2"))
        #expect(try (dec("0.15") + dec("0.05")).scale == 1)
        #expect(try dec("-1.5") + dec("1.5") == .zero)
        #expect(try dec("-1.5") - dec("-0.25") == dec("-1.25"))
        #expect(try dec("2.5").subtracting(dec("3")) == dec("-0.5"))
        #expect(try [dec("0.1"), dec("0.2"), dec("0.3")].reduce(.zero, +) == dec("0.6"))
    }

    @Test func multiplicationIsExact() throws {
        #expect(try dec("27000.5") * dec("0.001") == dec("27.0005"))
        #expect(try dec("0.5") * dec("0.2") == dec("0.1"))
        #expect(try (dec("0.5") * dec("0.2")).scale == 1)
        #expect(try dec("-1.5") * 2 == -3)
        #expect(try dec("-1.5") * dec("-1.5") == dec("2.25"))
        #expect(try dec("99999999.99999999").multiplied(by: dec("99999999.99999999")) == dec("9999999999999998.0000000000000001"))
        #expect(try dec("123.456") * .zero == .zero)
    }

    @Test func compoundAssignment() throws {
        var value = try dec("1.5")
        value += try dec("0.25")
        #expect(value == (try dec("1.75")))
        value -= 2
        #expect(value == (try dec("-0.25")))
        value *= -4
        #expect(value == 1)
    }

    @Test func sumsNearTheLimitStayExact() throws {
        let big = try dec("1" + String(repeating: "0", count: 37))
        // Aligned to scale 1 the big operand is 10^38, past the 38-digit range, yet the
        // true sum fits.
        let sum = try big.adding(dec("-0.5"))
        #expect(sum.description == String(repeating: "9", count: 37) + ".5")
        let max = try dec(String(repeating: "9", count: 38))
        #expect(try max.adding(-max) == .zero)
        #expect(try max.subtracting(max) == .zero)
    }

    @Test func detectsOverflow() throws {
        let max = try dec(String(repeating: "9", count: 38))
        #expect(thrownCode { () throws(GordonError) in try max.adding(1) } == .decimalOverflow)
        #expect(thrownCode { () throws(GordonError) in try (-max).subtracting(1) } == .decimalOverflow)
        #expect(thrownCode { () throws(GordonError) in try max.adding(dec("0.1")) } == .decimalOverflow)
        #expect(thrownCode { () throws(GordonError) in try dec("100000000000000000000").multiplied(by: dec("10000000000000000000")) } == .decimalOverflow)
        // 40 decimal places: exact, but beyond maxScale.
        #expect(thrownCode { () throws(GordonError) in
            try dec("0.00000000000000000001").multiplied(by: dec("0.00000000000000000003"))
        } == .decimalOverflow)
        let error = thrownError { () throws(GordonError) in try max.adding(1) }
        #expect(error?.context["lhs"] == max.description)
        #expect(error?.context["rhs"] == "1")
    }

    @Test func operatorsTrapOnOverflow() async {
        await #expect(processExitsWith: .failure) {
            let max = ExactDecimal(significand: ExactDecimal.maxSignificand, scale: 0)
            _ = max + 1
        }
    }

    @Test func divisionRoundsByRule() throws {
        let one = ExactDecimal(1), two = ExactDecimal(2), three = ExactDecimal(3)
        #expect(try one.divided(by: three, scale: 8, rounding: .down) == dec("0.33333333"))
        #expect(try one.divided(by: three, scale: 8, rounding: .up) == dec("0.33333334"))
        #expect(try two.divided(by: three, scale: 8, rounding: .halfEven) == dec("0.66666667"))
        #expect(try (-two).divided(by: three, scale: 8, rounding: .towardPositiveInfinity) == dec("-0.66666666"))
        #expect(try (-two).divided(by: three, scale: 8, rounding: .towardNegativeInfinity) == dec("-0.66666667"))
        #expect(try one.divided(by: 8, scale: 2, rounding: .halfEven) == dec("0.12"))
        #expect(try one.divided(by: 8, scale: 2, rounding: .halfUp) == dec("0.13"))
        #expect(try three.divided(by: 8, scale: 2, rounding: .halfEven) == dec("0.38"))
        #expect(try dec("27.0005").divided(by: dec("0.001"), scale: 0, rounding: .down) == 27000)
        #expect(try dec("-1").divided(by: dec("-4"), scale: 2, rounding: .down) == dec("0.25"))
        #expect(try dec("1").divided(by: dec("-4"), scale: 1, rounding: .halfUp) == dec("-0.3"))
    }

    @Test func divisionDecidesTiesFromTheExactRemainder() throws {
        // 7.5 / 3 = 2.5 exactly: a true tie.
        #expect(try dec("7.5").divided(by: 3, scale: 0, rounding: .halfEven) == 2)
        #expect(try dec("7.5").divided(by: 3, scale: 0, rounding: .halfUp) == 3)
        // 7.6 / 3 = 2.533…: the cut digit looks like a tie, the remainder says above.
        #expect(try dec("7.6").divided(by: 3, scale: 0, rounding: .halfEven) == 3)
        // 7.4 / 3 = 2.466…: below half.
        #expect(try dec("7.4").divided(by: 3, scale: 0, rounding: .halfUp) == 2)
        #expect(try dec("7.4").divided(by: 3, scale: 0, rounding: .up) == 3)
        #expect(try dec("7.5").divided(by: 3, scale: 0, rounding: .down) == 2)
    }

    @Test func divisionErrors() throws {
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(1).divided(by: .zero, scale: 8, rounding: .down) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(1).divided(by: 3, scale: -1, rounding: .down) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try ExactDecimal(1).divided(by: 3, scale: 33, rounding: .down) } == .invalidDecimal)
        let max = try dec(String(repeating: "9", count: 38))
        #expect(thrownCode { () throws(GordonError) in try max.divided(by: dec("0.1"), scale: 0, rounding: .down) } == .decimalOverflow)
        #expect(thrownCode { () throws(GordonError) in try max.divided(by: dec("0.99999999"), scale: 0, rounding: .down) } == .decimalOverflow)
        // The largest value below 10^37 rounded up becomes 10^37, still 38 digits: no overflow.
        #expect(try dec(String(repeating: "9", count: 37) + ".9").divided(by: 1, scale: 0, rounding: .up) == dec("1" + String(repeating: "0", count: 37)))
    }

    @Test func exactQuotientsNeedNoSpareDigits() throws {
        let big = try dec("1" + String(repeating: "0", count: 37))
        #expect(try big.divided(by: 1, scale: 2, rounding: .down) == big)
        #expect(try big.divided(by: dec("0.5"), scale: 10, rounding: .down) == dec("2" + String(repeating: "0", count: 37)))
    }
}
