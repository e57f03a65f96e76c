import GordonDomain
import GordonExchange
import GordonKernel
import Testing

/// The encoder writes what Binance writes: the decoder reads it back to the same value, and
/// the keys are exactly those of the documented example.
@Suite struct StreamEncodingTests {
    @Test func marketEventsRoundTripInBothForms() throws {
        var generator = StreamValueGenerator(seed: 0x5EED_0001)
        for index in 0..<600 {
            let decimals = [0, 2, 8][index % 3]
            let events: [MarketStreamEvent] = [
                .kline(generator.kline()), .aggTrade(generator.aggTrade()), .bookTicker(generator.bookTicker()),
                .serverShutdown(eventTime: generator.timestamp()),
            ]
            for event in events {
                for combined in [false, true] {
                    let text = BinanceStreamEncoder.marketEvent(event, combined: combined, decimals: decimals)
                    #expect(try BinanceStreamDecoder.decodeMarket(text) == event, "\(text)")
                }
            }
        }
    }

    @Test func userDataEventsRoundTripInEveryFraming() throws {
        var generator = StreamValueGenerator(seed: 0x5EED_0002)
        let framings: [UserDataFraming] = [.raw, .subscription(id: 0), .subscription(id: 42), .combined(streamName: "pqia91ma19a5s61cv6a81va65sdf19v8")]
        for index in 0..<400 {
            let decimals = [0, 2, 8][index % 3]
            let framing = framings[index % framings.count]
            let report = generator.executionReport()
            let position = generator.accountPosition()
            let balance = generator.balanceUpdate()
            let time = generator.timestamp()
            let pairs: [(String, UserDataEvent)] = [
                (BinanceStreamEncoder.executionReport(report, framing: framing, decimals: decimals), .executionReport(report)),
                (BinanceStreamEncoder.accountPosition(position, framing: framing, decimals: decimals), .accountPosition(position)),
                (BinanceStreamEncoder.balanceUpdate(balance, framing: framing, decimals: decimals), .balanceUpdate(balance)),
                (BinanceStreamEncoder.listenKeyExpired(eventTime: time, listenKey: "OfYGbUzi3Pra", framing: framing), .listenKeyExpired(eventTime: time)),
                (BinanceStreamEncoder.eventStreamTerminated(eventTime: time, framing: framing), .eventStreamTerminated(eventTime: time)),
            ]
            for (text, event) in pairs {
                #expect(try BinanceStreamDecoder.decodeUserData(text) == event, "\(text)")
            }
        }
    }

    @Test func marketKeySetsEqualTheDocumentedExamples() throws {
        var generator = StreamValueGenerator(seed: 0x5EED_0003)
        let cases: [(fixture: String, random: MarketStreamEvent)] = [
            ("kline-consistent", .kline(generator.kline())), ("aggTrade", .aggTrade(generator.aggTrade())),
            ("bookTicker", .bookTicker(generator.bookTicker())), ("serverShutdown", .serverShutdown(eventTime: generator.timestamp())),
        ]
        for (fixture, random) in cases {
            let documented = try StreamFixture.text(fixture)
            let expectedKeys = try streamKeyPaths(documented)
            let reencoded = BinanceStreamEncoder.marketEvent(try BinanceStreamDecoder.decodeMarket(documented), combined: false)
            #expect(try streamKeyPaths(reencoded) == expectedKeys, "\(fixture)")
            #expect(try streamKeyPaths(BinanceStreamEncoder.marketEvent(random, combined: false)) == expectedKeys, "\(fixture)")
        }
        let combinedShutdown = BinanceStreamEncoder.serverShutdown(eventTime: Timestamp(milliseconds: 1_770_123_456_789), combined: true)
        #expect(try BinanceStreamDecoder.decodeMarket(combinedShutdown) == BinanceStreamDecoder.decodeMarket(try StreamFixture.text("serverShutdown-combined")))
        #expect(try streamKeyPaths(combinedShutdown) == streamKeyPaths(try StreamFixture.text("serverShutdown-combined")))
    }

    @Test func userDataKeySetsEqualTheDocumentedExamples() throws {
        var generator = StreamValueGenerator(seed: 0x5EED_0004)
        let framing = UserDataFraming.subscription(id: 0)  // the documented examples are WebSocket-API framed
        func encode(_ event: UserDataEvent) -> String {
            switch event {
            case .executionReport(let report): BinanceStreamEncoder.executionReport(report, framing: framing)
            case .accountPosition(let position): BinanceStreamEncoder.accountPosition(position, framing: framing)
            case .balanceUpdate(let update): BinanceStreamEncoder.balanceUpdate(update, framing: framing)
            case .eventStreamTerminated(let time): BinanceStreamEncoder.eventStreamTerminated(eventTime: time, framing: framing)
            case .listenKeyExpired(let time): BinanceStreamEncoder.listenKeyExpired(eventTime: time, listenKey: "k", framing: .raw)
            case .other: "{}"
            }
        }
        let cases: [(fixture: String, random: UserDataEvent)] = [
            ("executionReport", .executionReport(generator.executionReport(withConditionalFields: true))),
            ("outboundAccountPosition", .accountPosition(generator.accountPosition(balanceCount: 2))),
            ("balanceUpdate", .balanceUpdate(generator.balanceUpdate())),
            ("eventStreamTerminated", .eventStreamTerminated(eventTime: generator.timestamp())),
            ("listenKeyExpired", .listenKeyExpired(eventTime: generator.timestamp())),  // documented unframed
        ]
        for (fixture, random) in cases {
            let documented = try StreamFixture.text(fixture)
            let expectedKeys = try streamKeyPaths(documented)
            #expect(try streamKeyPaths(encode(try BinanceStreamDecoder.decodeUserData(documented))) == expectedKeys, "\(fixture)")
            #expect(try streamKeyPaths(encode(random)) == expectedKeys, "\(fixture)")
        }
    }

    @Test func documentedExecutionReportReencodesToAnEqualValue() throws {
        let event = try BinanceStreamDecoder.decodeUserData(try StreamFixture.text("executionReport"))
        guard case .executionReport(let report) = event else { Issue.record("not a report"); return }
        let text = BinanceStreamEncoder.executionReport(report, decimals: 8)
        #expect(text.hasPrefix(#"{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000""#), "\(text)")
        #expect(text.contains(#""N":null"#))
        #expect(try BinanceStreamDecoder.decodeUserData(text) == event)
    }

    @Test func amountsArePrintedWithFixedPlaces() throws {
        let update = BalanceUpdate(eventTime: Timestamp(milliseconds: 1), asset: .btc, delta: try ExactDecimal(parsing: "0.01"),
                                   clearTime: Timestamp(milliseconds: 2))
        #expect(BinanceStreamEncoder.balanceUpdate(update, decimals: 8) == #"{"e":"balanceUpdate","E":1,"a":"BTC","d":"0.01000000","T":2}"#)
        let cases: [(String, Int, String)] = [
            ("0", 8, "0.00000000"), ("0", 0, "0"), ("123", 2, "123.00"), ("-1.5", 3, "-1.500"),
            ("0.000000001", 8, "0.000000001"), ("25776.86", 8, "25776.86000000"), ("7", 0, "7"),
        ]
        for (value, decimals, expected) in cases {
            let delta = try ExactDecimal(parsing: value)
            let text = BinanceStreamEncoder.balanceUpdate(BalanceUpdate(eventTime: Timestamp(milliseconds: 1), asset: .btc, delta: delta,
                                                                        clearTime: Timestamp(milliseconds: 2)), decimals: decimals)
            #expect(text.contains(#""d":"\#(expected)""#), "\(value) → \(text)")
        }
    }

    @Test func klineCombinedStreamNameFollowsBinance() throws {
        var generator = StreamValueGenerator(seed: 0x5EED_0005)
        let update = generator.kline()
        let text = BinanceStreamEncoder.kline(update, combined: true, decimals: 8)
        let name = "\(update.kline.symbol.rawValue.lowercased())@kline_\(update.kline.interval.rawValue)"
        #expect(text.hasPrefix(#"{"stream":"\#(name)","data":{"e":"kline","E":"#), "\(text)")
    }
}
