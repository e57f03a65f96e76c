import GordonDomain
import GordonKernel
import GordonProtocol
import Testing

/// Hostile or broken input must end in a typed `GordonError` naming what was wrong, and
/// never in a crash, a hang, or a value that should not exist.
@Suite struct DecodingRejectionTests {
    let codec = Fixtures.codec

    @Test func newerSchemaVersionIsRefusedBeforeThePayloadIsRead() throws {
        let bytes = try Golden.bytes("negative/schema_v2.json")
        let error = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) })
        #expect(error.code == .unsupportedSchemaVersion)
        #expect(error.context["schemaVersion"] == "2")
        #expect(error.context["supported"] == "1")
        let typed = thrownError { () throws(GordonError) in try codec.decode(KlineEvent.self, from: bytes) }
        #expect(typed?.code == .unsupportedSchemaVersion)
    }

    @Test(arguments: ["0", "-1", "1.5", "\"1\"", "null"])
    func schemaVersionThatIsNotAPositiveIntegerIsMalformed(version: String) throws {
        let bytes = try edited("kline.json", replacing: "\"schema_version\":1", with: "\"schema_version\":\(version)")
        let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) }
        #expect(error?.code == .malformedEvent)
        #expect(error?.context["path"] == "$.schema_version")
    }

    @Test func payloadOfAnotherTypeIsATypeMismatch() throws {
        let kline = try Golden.bytes("kline.json")
        let error = thrownError { () throws(GordonError) in try codec.decode(FillEvent.self, from: kline) }
        #expect(error?.code == .eventTypeMismatch)
        #expect(error?.context["expected"] == "fill")
        #expect(error?.context["type"] == "kline")
    }

    @Test func typeRelabelledOverAForeignPayloadIsMalformedNotMisread() throws {
        // A kline body claiming to be a fill must fail on the fill's missing fields.
        let bytes = try edited("kline.json", replacing: "\"type\":\"kline\"", with: "\"type\":\"fill\"")
        let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) }
        #expect(error?.code == .malformedEvent)
        #expect(error?.context["path"]?.hasPrefix("$.payload.") == true)
    }

    @Test func unknownTypeIsReportedAsSuch() throws {
        let bytes = try edited("kline.json", replacing: "\"type\":\"kline\"", with: "\"type\":\"kline_v9\"")
        let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) }
        #expect(error?.code == .unknownEventType)
        #expect(error?.context["type"] == "kline_v9")
    }

    @Test(arguments: [
        (",\"type\":\"kline\"", "", "$.type"),
        ("\"type\":\"kline\"", "\"type\":7", "$.type"),
    ])
    func missingOrNonStringTypeIsMalformed(old: String, new: String, path: String) throws {
        let bytes = try edited("kline.json", replacing: old, with: new)
        let any = thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) }
        #expect(any?.code == .malformedEvent)
        #expect(any?.context["path"] == path)
        let typed = thrownError { () throws(GordonError) in try codec.decode(KlineEvent.self, from: bytes) }
        #expect(typed?.code == .malformedEvent)
        #expect(typed?.context["path"] == path)
    }

    /// Each edit breaks one field of a golden file; the error must point at that field.
    @Test(arguments: [
        // Number where a decimal string is expected.
        ("kline.json", "\"open\":\"97000.01\"", "\"open\":97000.01", "$.payload.open"),
        ("breaker.json", "\"value\":\"-0.0312\"", "\"value\":-0.0312", "$.payload.value"),
        // String where integer milliseconds are expected.
        ("kline.json", "\"occurred_at\":1732492800123", "\"occurred_at\":\"1732492800123\"", "$.occurred_at"),
        ("fill.json", "\"trade_time\":1732492800950", "\"trade_time\":\"2024-11-25T00:00:00.950Z\"", "$.payload.trade_time"),
        ("kline.json", "\"open_time\":1732492800000", "\"open_time\":1732492800000.5", "$.payload.open_time"),
        // Invalid values.
        ("kline.json", "\"symbol\":\"BTCUSDT\"", "\"symbol\":\"btcusdt\"", "$.payload.symbol"),
        ("kline.json", "\"symbol\":\"BTCUSDT\"", "\"symbol\":\"BTC.USDT\"", "$.payload.symbol"),
        ("kline.json", "\"close\":\"97100.5\"", "\"close\":\"9.71e4\"", "$.payload.close"),
        ("kline.json", "\"close\":\"97100.5\"", "\"close\":\"-1\"", "$.payload.close"),
        ("kline.json", "\"interval\":\"1m\"", "\"interval\":\"2m\"", "$.payload.interval"),
        ("kline.json", "\"is_closed\":true", "\"is_closed\":\"true\"", "$.payload.is_closed"),
        ("order_intent.json", "\"side\":\"BUY\"", "\"side\":\"buy\"", "$.payload.side"),
        ("order_intent.json", "\"bot_id\":\"ema-cross-1\"", "\"bot_id\":\"EMA cross\"", "$.payload.bot_id"),
        ("risk_command.json", "\"target\":\"all\"", "\"target\":\"*\"", "$.payload.target"),
        ("risk_command.json", "\"command\":\"halt\"", "\"command\":\"nuke\"", "$.payload.command"),
        ("kline.json", "\"event_id\":\"01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d\"", "\"event_id\":\"01936a1e-8b4c-4a3f-9c2d-5e6f7a8b9c0d\"", "$.event_id"),
        ("kline.json", "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"", "\"trace_id\":\"00000000000000000000000000000000\"", "$.trace_id"),
        ("kline.json", "\"source\":\"gordon-data\"", "\"source\":\"gordon-rogue\"", "$.source"),
        // Missing and null required fields.
        ("kline.json", "\"trades\":1523,", "", "$.payload.trades"),
        ("kline.json", "\"trades\":1523", "\"trades\":null", "$.payload.trades"),
        ("fill.json", "\"bot_id\":\"ema-cross-1\",", "", "$.payload.bot_id"),
        ("metric.json", "{\"name\":\"fear_greed\",\"observed_at\":1732492800000,\"source\":\"alternative.me\",\"unit\":\"index\",\"value\":\"72\"}",
         "[\"fear_greed\",72]", "$.payload"),
        ("kline.json", "\"trades\":1523", "\"trades\":1e400", "$.payload.trades"),
        ("fill.json", "\"trade_id\":3141592653", "\"trade_id\":99999999999999999999", "$.payload.trade_id"),
        // Values each valid alone but not together: the payload's own check refuses them.
        ("kline.json", "\"low\":\"96950\"", "\"low\":\"97200\"", "$.payload"),
        ("order_intent.json", "\"price\":\"96500\",", "", "$.payload"),
        ("risk_command.json", "\"command\":\"halt\"", "\"command\":\"pause_bot\"", "$.payload"),
    ])
    func brokenFieldIsMalformedWithItsPath(file: String, old: String, new: String, path: String) throws {
        let bytes = try edited(file, replacing: old, with: new)
        let error = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) })
        #expect(error.code == .malformedEvent, "\(error)")
        #expect(error.context["path"] == path, "\(error)")
    }

    @Test func validationFailuresKeepTheirCauseAndUnderlyingError() throws {
        let badSymbol = try edited("kline.json", replacing: "\"symbol\":\"BTCUSDT\"", with: "\"symbol\":\"btcusdt\"")
        let symbolError = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: badSymbol) })
        #expect(symbolError.context["cause"] == ErrorCode.invalidSymbol.rawValue)
        #expect(symbolError.context["value"] == "btcusdt")
        #expect((symbolError.underlying as? GordonError)?.code == .invalidSymbol)

        let noPrice = try edited("order_intent.json", replacing: "\"price\":\"96500\",", with: "")
        let intentError = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: noPrice) })
        #expect(intentError.context["cause"] == ErrorCode.invalidOrder.rawValue)

        let badDecimal = try edited("breaker.json", replacing: "\"threshold\":\"-0.03\"", with: "\"threshold\":\"-.03\"")
        let decimalError = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: badDecimal) })
        #expect(decimalError.context["path"] == "$.payload.threshold")
        #expect(decimalError.context["cause"] == ErrorCode.invalidDecimal.rawValue)
    }

    @Test(arguments: Fixtures.goldenFiles)
    func everyTruncationIsMalformed(file: String) throws {
        let golden = try Golden.bytes(file)
        for length in 0..<golden.count {
            let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: golden[0..<length]) }
            #expect(error?.code == .malformedEvent, "prefix of \(length) bytes of \(file)")
        }
    }

    @Test func randomGarbageIsMalformed() {
        var random = SplitMix64(seed: 0x6172_6261_6765)
        for round in 0..<3000 {
            let count = Int(random.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Half the inputs start like JSON so the parser gets past the first byte.
            if round % 2 == 0 { bytes.insert(UInt8(ascii: "{"), at: 0) }
            let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) }
            #expect(error?.code == .malformedEvent, "round \(round)")
        }
    }

    /// Flipping a few bytes of real events probes the decoder's paths past the JSON parser.
    /// Whatever comes out is a typed error or a value that round-trips; never a crash.
    @Test func mutatedGoldenFilesFailTypedOrRoundTrip() throws {
        var random = SplitMix64(seed: 0x6d75_7461_7465)
        let allowed: Set<ErrorCode> = [.malformedEvent, .unsupportedSchemaVersion, .unknownEventType]
        let goldens = try Fixtures.goldenFiles.map { try Golden.bytes($0) }
        var decodedCount = 0
        for round in 0..<4000 {
            var bytes = goldens[round % goldens.count]
            for _ in 0...(random.next() % 3) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random.next() % 128)
            }
            do {
                let event = try codec.decodeAny(from: bytes)
                decodedCount += 1
                let again = try codec.decodeAny(from: Fixtures.encode(event))
                #expect(again == event, "round \(round)")
            } catch {
                #expect(allowed.contains(error.code), "round \(round): \(error)")
            }
        }
        // Some mutations land in free text and still decode: the round-trip branch ran.
        #expect(decodedCount > 0)
    }

    @Test func deeplyNestedJSONIsMalformedNotAStackOverflow() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 200_000)
        #expect(thrownError { () throws(GordonError) in try codec.decodeAny(from: deep) }?.code == .malformedEvent)
        let deepObject = Array("{\"schema_version\":1,\"type\":\"kline\",\"payload\":".utf8) + deep
        #expect(thrownError { () throws(GordonError) in try codec.decodeAny(from: deepObject) }?.code == .malformedEvent)
    }

    @Test func oversizedInputIsRefusedBeforeParsing() throws {
        let golden = try Golden.bytes("kline.json")
        // Valid JSON padded with whitespace past the limit: only the size can refuse it.
        let padded = golden + [UInt8](repeating: UInt8(ascii: " "), count: EventSchema.maxEventBytes)
        let error = thrownError { () throws(GordonError) in try codec.decodeAny(from: padded) }
        #expect(error?.code == .malformedEvent)
        #expect(error?.context["bytes"] == "\(padded.count)")

        let small = EventCodec(maxEventBytes: golden.count - 1)
        #expect(thrownError { () throws(GordonError) in try small.decodeAny(from: golden) }?.code == .malformedEvent)
        #expect(thrownError { () throws(GordonError) in try EventCodec(maxEventBytes: golden.count).decodeAny(from: golden) } == nil)
    }

    @Test func encodingRefusesEventsConsumersWouldRefuse() throws {
        let golden = try Golden.bytes("kline.json")
        let small = EventCodec(maxEventBytes: golden.count - 1)
        let error = thrownError { () throws(GordonError) in try small.encode(try Fixtures.klineEvent()) }
        #expect(error?.code == .eventEncodingFailed)
    }

    @Test func errorMessagesCannotForgeLogLines() throws {
        let bytes = try edited("kline.json", replacing: "\"type\":\"kline\"", with: "\"type\":\"x\\nGORDON-FAKE\"")
        let error = try #require(thrownError { () throws(GordonError) in try codec.decodeAny(from: bytes) })
        #expect(error.code == .unknownEventType)
        #expect(error.context["type"]?.contains("\n") == false)
        #expect(!error.description.contains("\n"))
    }
}
