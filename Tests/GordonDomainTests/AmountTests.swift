import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Price, Quantity, Money, Balance")
struct AmountTests {
    @Test func priceAndQuantityRefuseNegatives() throws {
        #expect(thrownCode { () throws(GordonError) in try Price(parsing: "-0.01") } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try Quantity(parsing: "-1") } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try Price(dec("-5")) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try Quantity(dec("-5")) } == .invalidDecimal)
        #expect(try Price(parsing: "0.00000000") == .zero)
        #expect(try Quantity(parsing: "0") == .zero)
        #expect(try Price(parsing: "27000.50").value == dec("27000.5"))
        #expect(thrownCode { () throws(GordonError) in try Price(parsing: "abc") } == .invalidDecimal)
    }

    @Test func compareByValue() throws {
        #expect(try price("1.5") < price("1.50001"))
        #expect(try price("1.50") == price("1.5"))
        #expect(try qty("0.001") < qty("0.01"))
        #expect(try [qty("3"), qty("0.5"), qty("1")].sorted() == [qty("0.5"), qty("1"), qty("3")])
    }

    @Test func notionalIsExact() throws {
        #expect(try price("27000.5").notional(for: qty("0.001")) == dec("27.0005"))
        #expect(try qty("0.001").notional(at: price("27000.5")) == dec("27.0005"))
    }

    @Test func quantityArithmeticStaysNonNegative() throws {
        #expect(try qty("1.5").adding(qty("0.25")) == qty("1.75"))
        #expect(try qty("1.5").subtracting(qty("1.5")) == .zero)
        #expect(thrownCode { () throws(GordonError) in try qty("1").subtracting(qty("1.00000001")) } == .invalidDecimal)
    }

    @Test func amountsCodeAsStrings() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(try price("27000.50")), as: UTF8.self) == #""27000.5""#)
        #expect(String(decoding: try encoder.encode(try qty("0.00100000")), as: UTF8.self) == #""0.001""#)
        let money = Money(amount: try dec("-12.50"), asset: .usdt)
        #expect(String(decoding: try encoder.encode(money), as: UTF8.self) == #"{"amount":"-12.5","asset":"USDT"}"#)
        #expect(try JSONDecoder().decode(Money.self, from: encoder.encode(money)) == money)
        #expect(try JSONDecoder().decode(Price.self, from: Data(#""0.1""#.utf8)) == price("0.1"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Price.self, from: Data(#""-0.1""#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Quantity.self, from: Data("1".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"1","asset":"usdt"}"#.utf8)) }
    }

    @Test func moneyDescribesItself() throws {
        #expect(try Money(parsing: "12.50", asset: .usdt).description == "12.5 USDT")
        #expect(thrownCode { () throws(GordonError) in try Money(parsing: "1,5", asset: .btc) } == .invalidDecimal)
    }

    @Test func balanceTotalsAndValidates() throws {
        let balance = try Balance(asset: .btc, free: dec("0.5"), locked: dec("0.25"))
        #expect(balance.total == (try dec("0.75")))
        #expect(thrownCode { () throws(GordonError) in try Balance(asset: .btc, free: dec("-0.1"), locked: .zero) } == .invalidDecimal)
        #expect(thrownCode { () throws(GordonError) in try Balance(asset: .btc, free: .zero, locked: dec("-0.1")) } == .invalidDecimal)
        let max = try dec(String(repeating: "9", count: 38))
        #expect(thrownCode { () throws(GordonError) in try Balance(asset: .btc, free: max, locked: max) } == .decimalOverflow)

        let json = try JSONEncoder().encode(balance)
        #expect(try JSONDecoder().decode(Balance.self, from: json) == balance)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Balance.self, from: Data(#"{"asset":"BTC","free":"-1","locked":"0"}"#.utf8))
        }
    }
}
