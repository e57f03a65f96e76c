import GordonBot
import GordonDomain
import GordonKernel
import Testing

/// The bot reads gordon-data's `/warmup` (Binance's kline rows) exactly, without the exchange
/// client.
@Suite("gordon-bot: the warm-up history")
struct WarmupHistoryTests {
    @Test("Binance's 12-element rows become closed klines with every decimal as printed; anything else is invalidMarketData")
    func rows() throws {
        let body = Array("""
            [[1704067200000,"42283.58000000","42299.99000000","42261.02000000","42298.62000000","35.92724000",1704067259999,\
            "1518865.51011060",1327,"23.13931000","978180.11251950","0"]]
            """.utf8)
        let klines = try WarmupHistory.klines(from: body, symbol: try Symbol("BTCUSDT"), interval: .oneMinute)
        #expect(klines.count == 1)
        let kline = try #require(klines.first)
        #expect(kline.openTime.milliseconds == 1_704_067_200_000 && kline.closeTime.milliseconds == 1_704_067_259_999)
        #expect(kline.close.value == (try ExactDecimal(parsing: "42298.62")) && kline.trades == 1327 && kline.isClosed)
        #expect(kline.takerBuyQuoteVolume == (try ExactDecimal(parsing: "978180.1125195")))
        #expect(throws: GordonError.self) {
            _ = try WarmupHistory.klines(from: Array(#"{"code":-1102}"#.utf8), symbol: try Symbol("BTCUSDT"), interval: .oneMinute)
        }
        #expect(throws: GordonError.self) {
            _ = try WarmupHistory.klines(from: Array(#"[[1704067200000,"x","1","1","1","1",1704067259999,"1",1,"1","1","0"]]"#.utf8),
                                         symbol: try Symbol("BTCUSDT"), interval: .oneMinute)
        }
    }
}
