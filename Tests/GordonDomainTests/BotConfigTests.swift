import Foundation
import GordonDomain
import GordonKernel
import Testing

@Suite("BotConfig validation")
struct BotConfigTests {
    static func config(
        strategy: String = "ema_cross", parameters: [String: String] = ["fast": "12", "slow": "26"],
        symbols: [String] = ["BTCUSDT", "ETHUSDT"], maxQuoteExposure: String? = "1000"
    ) throws(GordonError) -> BotConfig {
        var parsedSymbols: [Symbol] = []
        for symbol in symbols { parsedSymbols.append(try Symbol(symbol)) }
        let exposure: ExactDecimal? = if let maxQuoteExposure { try ExactDecimal(parsing: maxQuoteExposure) } else { nil }
        return try BotConfig(
            botId: BotId("bot-1"), strategy: strategy, parameters: parameters, symbols: parsedSymbols,
            interval: .oneHour, desiredState: .running, maxQuoteExposure: exposure)
    }

    @Test func acceptsAValidConfig() throws {
        let config = try Self.config()
        #expect(config.symbols.map(\.rawValue) == ["BTCUSDT", "ETHUSDT"])
        #expect(config.maxQuoteExposure == 1000)
        #expect(try Self.config(parameters: [:], maxQuoteExposure: nil).maxQuoteExposure == nil)
        #expect(try Self.config(strategy: "Mean.Reversion-2").strategy == "Mean.Reversion-2")
    }

    @Test(arguments: [
        ("", ["a": "1"], ["BTCUSDT"], "1"),
        ("-ema", ["a": "1"], ["BTCUSDT"], "1"),
        ("ema cross", ["a": "1"], ["BTCUSDT"], "1"),
        (String(repeating: "s", count: 65), ["a": "1"], ["BTCUSDT"], "1"),
        ("ema", ["": "1"], ["BTCUSDT"], "1"),
        ("ema", ["bad key": "1"], ["BTCUSDT"], "1"),
        ("ema", ["a": String(repeating: "x", count: 1025)], ["BTCUSDT"], "1"),
        ("ema", ["a": "line\nbreak"], ["BTCUSDT"], "1"),
        ("ema", ["a": "1"], [], "1"),
        ("ema", ["a": "1"], ["BTCUSDT", "BTCUSDT"], "1"),
        ("ema", ["a": "1"], ["BTCUSDT"], "0"),
        ("ema", ["a": "1"], ["BTCUSDT"], "-5"),
    ])
    func rejectsInvalidConfigs(strategy: String, parameters: [String: String], symbols: [String], exposure: String) {
        let code = thrownCode { () throws(GordonError) in
            try Self.config(strategy: strategy, parameters: parameters, symbols: symbols, maxQuoteExposure: exposure)
        }
        #expect(code == .invalidBotConfig)
    }

    @Test func changingDesiredStateKeepsEverythingElse() throws {
        let config = try Self.config()
        let paused = config.with(desiredState: .paused)
        #expect(paused.desiredState == .paused)
        #expect(paused.with(desiredState: .running) == config)
    }

    @Test func roundTripsThroughJSONAndValidatesOnDecode() throws {
        let config = try Self.config()
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(BotConfig.self, from: data) == config)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains(#""desiredState":"running""#))
        #expect(json.contains(#""interval":"1h""#))
        let duplicate = json.replacingOccurrences(of: #""ETHUSDT""#, with: #""BTCUSDT""#)
        #expect(duplicate != json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BotConfig.self, from: Data(duplicate.utf8)) }
        let minimal = #"{"botId":"b1","strategy":"s","symbols":["BTCUSDT"],"interval":"1M","desiredState":"stopped"}"#
        let decoded = try JSONDecoder().decode(BotConfig.self, from: Data(minimal.utf8))
        #expect(decoded.parameters.isEmpty)
        #expect(decoded.maxQuoteExposure == nil)
        #expect(decoded.interval == .oneMonth)
    }
}
