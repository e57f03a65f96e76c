import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("Asset, Symbol, BotId, ClientOrderId")
struct IdentifierTests {
    @Test(arguments: ["BTC", "USDT", "1000SATS", "A", "12345678901234567890"])
    func acceptsAssets(text: String) throws {
        #expect(try Asset(text).rawValue == text)
    }

    @Test(arguments: ["", "btc", "BT C", "BTC-", "B.T", "123456789012345678901", "ÄBC", " BTC"])
    func rejectsAssets(text: String) {
        #expect(thrownCode { () throws(GordonError) in try Asset(text) } == .invalidSymbol)
    }

    @Test(arguments: [
        ("BTCUSDT", "BTC", "USDT"), ("ETHBTC", "ETH", "BTC"), ("BTCFDUSD", "BTC", "FDUSD"),
        ("BNBUSDC", "BNB", "USDC"), ("1000SATSUSDT", "1000SATS", "USDT"), ("USDTTRY", "USDT", "TRY"),
        ("BTCEURI", "BTC", "EURI"), ("BTCEUR", "BTC", "EUR"), ("ETHTUSD", "ETH", "TUSD"), ("BTCJPY", "BTC", "JPY"),
    ])
    func splitsKnownQuotes(text: String, base: String, quote: String) throws {
        let symbol = try Symbol(text)
        #expect(symbol.rawValue == text)
        #expect(symbol.base == (try Asset(base)))
        #expect(symbol.quote == (try Asset(quote)))
    }

    @Test func leavesUnknownQuotesUnsplit() throws {
        let symbol = try Symbol("ABCXYZ")
        #expect(symbol.base == nil)
        #expect(symbol.quote == nil)
        // A symbol that is only a quote asset has no base to split off.
        #expect(try Symbol("USDT").base == nil)
    }

    @Test func knownQuotesAreTriedLongestFirst() {
        let lengths = Symbol.knownQuoteAssets.map(\.count)
        #expect(lengths == lengths.sorted(by: >))
        #expect(Set(Symbol.knownQuoteAssets).count == Symbol.knownQuoteAssets.count)
        for quote in ["USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY"] {
            #expect(Symbol.knownQuoteAssets.contains(quote))
        }
    }

    @Test(arguments: ["", "B", "btcusdt", "BTC-USDT", "BTC_USDT", "BTC.USDT", "BTC USDT", "BTCUSDT ", "ABCDEFGHIJKLMNOPQRSTU", "BTC*", "BTC>"])
    func rejectsSymbols(text: String) {
        #expect(thrownCode { () throws(GordonError) in try Symbol(text) } == .invalidSymbol)
    }

    @Test func buildsFromParts() throws {
        let symbol = try Symbol(base: .btc, quote: .usdt)
        #expect(symbol.rawValue == "BTCUSDT")
        #expect(symbol == (try Symbol("BTCUSDT")))
        #expect(symbol.hashValue == (try Symbol("BTCUSDT")).hashValue)
        let unlisted = try Symbol(base: Asset("ABC"), quote: Asset("XYZ"))
        #expect(unlisted.base == (try Asset("ABC")))
        #expect(unlisted.quote == (try Asset("XYZ")))
        #expect(thrownCode { () throws(GordonError) in try Symbol(base: Asset("ABCDEFGHIJKL"), quote: Asset("MNOPQRSTU")) } == .invalidSymbol)
    }

    @Test(arguments: ["a", "0", "bot-1", "ema_cross_btc", "x" + String(repeating: "y", count: 62)])
    func acceptsBotIds(text: String) throws {
        #expect(try BotId(text).rawValue == text)
    }

    @Test(arguments: ["", "-bot", "_bot", "Bot", "bot.1", "bot 1", "bot*", "bot>", "x" + String(repeating: "y", count: 63), "bót", "bot\n"])
    func rejectsBotIds(text: String) {
        #expect(thrownCode { () throws(GordonError) in try BotId(text) } == .invalidIdentifier)
    }

    @Test(arguments: ["a", "web_1234", "x-AB.cd:ef/gh_ij", "0123456789abcdef0123456789abcdef0123", "ios_/:."])
    func acceptsClientOrderIds(text: String) throws {
        #expect(try ClientOrderId(text).rawValue == text)
    }

    @Test(arguments: ["", "0123456789abcdef0123456789abcdef01234", "a b", "a*b", "a>b", "a+b", "a#b", "é", "a\u{0}"])
    func rejectsClientOrderIds(text: String) {
        #expect(thrownCode { () throws(GordonError) in try ClientOrderId(text) } == .invalidIdentifier)
    }

    @Test func identifiersCodeAsValidatedStrings() throws {
        let encoder = JSONEncoder()
        #expect(String(decoding: try encoder.encode(try Symbol("BTCUSDT")), as: UTF8.self) == #""BTCUSDT""#)
        #expect(String(decoding: try encoder.encode(try BotId("bot-1")), as: UTF8.self) == #""bot-1""#)
        #expect(String(decoding: try encoder.encode(try ClientOrderId("abc:1")), as: UTF8.self) == #""abc:1""#)
        #expect(String(decoding: try encoder.encode(Asset.usdt), as: UTF8.self) == #""USDT""#)
        let decoder = JSONDecoder()
        #expect(try decoder.decode(Symbol.self, from: Data(#""ETHBTC""#.utf8)).quote == .btc)
        #expect(throws: DecodingError.self) { try decoder.decode(Symbol.self, from: Data(#""btcusdt""#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(BotId.self, from: Data(#""a.b""#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(ClientOrderId.self, from: Data(#""a b""#.utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Asset.self, from: Data("7".utf8)) }
    }
}
