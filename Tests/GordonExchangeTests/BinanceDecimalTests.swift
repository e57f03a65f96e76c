import GordonDomain
import GordonExchange
import Testing

@Suite("Binance decimal text")
struct BinanceDecimalTests {
    @Test(arguments: [
        ("0.001", 8, "0.00100000"), ("0", 8, "0.00000000"), ("5", 2, "5.00"), ("5", 0, "5"), ("-1.5", 3, "-1.500"),
        ("100000", 8, "100000.00000000"), ("1.123456789", 8, "1.123456789"), ("0.5", -1, "0.5"),
    ])
    func format(value: String, places: Int, expected: String) throws {
        let text = BinanceDecimal.format(dec(value), places: places)
        #expect(text == expected)
        #expect(try ExactDecimal(parsing: text) == dec(value))
    }
}
