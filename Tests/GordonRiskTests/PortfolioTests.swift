import GordonDomain
import GordonKernel
import GordonRisk
import Testing

@Suite struct PortfolioTests {
    static func dec(_ text: String) throws -> ExactDecimal { try ExactDecimal(parsing: text) }

    @Test func equityIsAllocationsPlusRealisedPlusPositionsAtTheLastPrice() throws {
        var portfolio = Portfolio()
        let (a, b) = (try BotId("bot-a"), try BotId("bot-b"))
        let (btc, eth) = (try Symbol("BTCUSDT"), try Symbol("ETHUSDT"))
        portfolio.setAllocation(try Self.dec("1000"), of: a)
        portfolio.setAllocation(try Self.dec("500"), of: b)
        #expect(try portfolio.equity() == (try Self.dec("1500")))
        portfolio.replaceHoldings([
            Portfolio.Key(bot: a, symbol: btc): .init(quantity: try Self.dec("0.01"), averageEntryPrice: try Self.dec("50000"),
                                                      realisedProfit: try Self.dec("12.5")),
            Portfolio.Key(bot: b, symbol: eth): .init(quantity: try Self.dec("0.5"), averageEntryPrice: try Self.dec("2000"),
                                                      realisedProfit: try Self.dec("-3")),
        ])
        // ETH has no price yet: equity is unknown, exposure counts it at its entry price.
        portfolio.priceClosed(btc, at: try Self.dec("48000"))
        #expect(portfolio.unpricedSymbols == [eth])
        #expect(try portfolio.equity() == nil)
        #expect(try portfolio.grossExposure() == (try Self.dec("1480")))
        portfolio.priceClosed(eth, at: try Self.dec("2100"))
        // 1500 + 12.5 − 3 + 0.01 × (48000 − 50000) + 0.5 × (2100 − 2000) = 1539.5
        #expect(try portfolio.equity() == (try Self.dec("1539.5")))
        #expect(try portfolio.grossExposure() == (try Self.dec("1530")))
    }

    @Test func aFlatPositionNeedsNoPriceAndAZeroPriceIsIgnored() throws {
        var portfolio = Portfolio()
        let bot = try BotId("bot-a")
        let btc = try Symbol("BTCUSDT")
        portfolio.setAllocation(try Self.dec("100"), of: bot)
        portfolio.replaceHoldings([Portfolio.Key(bot: bot, symbol: btc): .init(quantity: .zero, averageEntryPrice: .zero,
                                                                               realisedProfit: try Self.dec("-7"))])
        #expect(try portfolio.equity() == (try Self.dec("93")))
        portfolio.priceClosed(btc, at: .zero)
        #expect(portfolio.lastPrices.isEmpty)
    }
}
