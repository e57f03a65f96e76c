import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// filters.md's example PERCENT_PRICE_BY_SIDE (bids 0.2–1.2×, asks 0.8–5×) around an
/// average of 100.00 on a 0.01 tick: bids 20.00–120.00, asks 80.00–500.00.
@Suite("PERCENT_PRICE_BY_SIDE")
struct PercentPriceBySideTests {
    let filter = PercentPriceBySide(bidMultiplierUp: dec("1.2"), bidMultiplierDown: dec("0.2"),
                                    askMultiplierUp: dec("5"), askMultiplierDown: dec("0.8"), avgPriceMins: 1)
    let average = try! Price(dec("100.00"))
    let tick = dec("0.01")

    private func price(_ text: String) -> Price { try! Price(dec(text)) }

    @Test func isReadFromExchangeInfo() throws {
        let info = try BinanceJSON.decode(ExchangeInfoResponse.self, from: try Fixtures.bytes("rest-exchangeInfo.json"), endpoint: "/")
        #expect(info.symbols[0].percentPriceBySide == filter)
        #expect(SymbolInfo(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", filters: []).percentPriceBySide == nil)
    }

    @Test(arguments: [
        (Side.buy, "120.00", true), (.buy, "120.01", false), (.buy, "20.00", true), (.buy, "19.99", false), (.buy, "100", true),
        (.sell, "500.00", true), (.sell, "500.01", false), (.sell, "80.00", true), (.sell, "79.99", false), (.sell, "100", true),
    ])
    func validateAtTheBounds(side: Side, text: String, passes: Bool) throws {
        if passes {
            try filter.validate(side: side, price: price(text), weightedAveragePrice: average)
        } else {
            let error = #expect(throws: GordonError.self) { try filter.validate(side: side, price: price(text), weightedAveragePrice: average) }
            #expect(error?.code == .filterFailure)
            #expect(error?.context["filter"] == "PERCENT_PRICE_BY_SIDE")
            #expect(error?.message.hasPrefix("Filter failure: PERCENT_PRICE_BY_SIDE: ") == true)
        }
    }

    @Test(arguments: [
        (Side.buy, "120.00", "120.00"), (.buy, "120.01", "120.00"), (.buy, "1000", "120.00"), (.buy, "20.00", "20.00"),
        (.buy, "55.555", "55.55"), (.sell, "80.00", "80.00"), (.sell, "79.99", "80.00"), (.sell, "1", "80.00"),
        (.sell, "500.00", "500.00"), (.sell, "99.991", "100.00"),
    ])
    func clampMovesOnlyInGordonsFavour(side: Side, asked: String, expected: String) throws {
        let clamped = try filter.clamp(side: side, price: price(asked), weightedAveragePrice: average, tickSize: tick)
        #expect(clamped == price(expected))
        try filter.validate(side: side, price: clamped, weightedAveragePrice: average)
    }

    @Test(arguments: [(Side.buy, "19.99"), (.sell, "500.01")])
    func clampRefusesToMoveAgainstGordon(side: Side, asked: String) throws {
        let error = #expect(throws: GordonError.self) {
            try filter.clamp(side: side, price: price(asked), weightedAveragePrice: average, tickSize: tick)
        }
        #expect(error?.code == .filterFailure && error?.context["filter"] == "PERCENT_PRICE_BY_SIDE")
    }

    @Test func clampKeepsAnOffGridBoundOnTheGridInside() throws {
        // 100.003 × 1.2 = 120.0036 is not on the tick grid: the highest tick inside is 120.00.
        let odd = price("100.003")
        #expect(try filter.clamp(side: .buy, price: price("200"), weightedAveragePrice: odd, tickSize: tick) == price("120.00"))
        #expect(try filter.clamp(side: .buy, price: price("200"), weightedAveragePrice: odd, tickSize: nil) == price("120.0036"))
        // 100.003 × 0.8 = 80.0024: the lowest ask tick inside is 80.01.
        #expect(try filter.clamp(side: .sell, price: price("1"), weightedAveragePrice: odd, tickSize: tick) == price("80.01"))
        // A band narrower than a tick holds no price at all.
        let narrow = PercentPriceBySide(bidMultiplierUp: dec("1.00001"), bidMultiplierDown: dec("0.99999"),
                                        askMultiplierUp: dec("1.00001"), askMultiplierDown: dec("0.99999"), avgPriceMins: 0)
        #expect(throws: GordonError.self) { try narrow.clamp(side: .buy, price: price("200"), weightedAveragePrice: odd, tickSize: tick) }
    }
}
