import GordonDomain
import GordonKernel
import GordonProtocol
import Testing

/// The golden files lock the wire format: a change that alters any byte of an existing
/// event's encoding, or the value read from it, fails here and must be a deliberate
/// (additive, or version-raising) decision.
@Suite struct GoldenTests {
    @Test(arguments: Fixtures.goldenFiles)
    func encodingMatchesGoldenBytes(file: String) throws {
        let fixture = try #require(try Fixtures.all().first { $0.file == file }).event
        let golden = try Golden.bytes(file)
        let encoded = try Fixtures.encode(fixture)
        #expect(encoded == golden, "\(file): \(String(decoding: encoded, as: UTF8.self))")
    }

    @Test(arguments: Fixtures.goldenFiles)
    func goldenDecodesToFixture(file: String) throws {
        let fixture = try #require(try Fixtures.all().first { $0.file == file }).event
        let decoded = try Fixtures.codec.decodeAny(from: try Golden.bytes(file))
        #expect(decoded == fixture)
        // Canonical form: re-encoding what was read gives back the file's exact bytes.
        #expect(try Fixtures.encode(decoded) == (try Golden.bytes(file)))
    }

    @Test func typedDecodeOfEveryGolden() throws {
        let codec = Fixtures.codec
        #expect(try codec.decode(KlineEvent.self, from: Golden.bytes("kline.json")) == Fixtures.klineEvent())
        #expect(try codec.decode(MetricEvent.self, from: Golden.bytes("metric.json")) == Fixtures.metricEvent())
        #expect(try codec.decode(OrderIntentEvent.self, from: Golden.bytes("order_intent.json")) == Fixtures.orderIntentEvent())
        #expect(try codec.decode(OrderUpdateEvent.self, from: Golden.bytes("order_update.json")) == Fixtures.orderUpdateEvent())
        #expect(try codec.decode(FillEvent.self, from: Golden.bytes("fill.json")) == Fixtures.fillEvent())
        #expect(try codec.decode(RiskCommandEvent.self, from: Golden.bytes("risk_command.json")) == Fixtures.riskCommandEvent())
        #expect(try codec.decode(BreakerEvent.self, from: Golden.bytes("breaker.json")) == Fixtures.breakerEvent())
        #expect(try codec.decode(BotLifecycleEvent.self, from: Golden.bytes("bot_lifecycle.json")) == Fixtures.botLifecycleEvent())
        #expect(try codec.decode(ReconciliationEvent.self, from: Golden.bytes("reconciliation.json")) == Fixtures.reconciliationEvent())
    }

    @Test func anyEventExposesEnvelopeFieldsAndSubject() throws {
        let expected: [String: (type: String, source: ServiceName, subject: String)] = [
            "kline.json": ("kline", .data, "gordon.market.kline.BTCUSDT.1m"),
            "metric.json": ("metric", .data, "gordon.market.metric.fear_greed"),
            "order_intent.json": ("order_intent", .bot, "gordon.intent.ema-cross-1"),
            "order_intent_market_quote.json": ("order_intent", .bot, "gordon.intent.ema-cross-1"),
            "order_update.json": ("order_update", .executor, "gordon.exec.order.ema-cross-1"),
            "order_update_rejected.json": ("order_update", .executor, "gordon.exec.order.ema-cross-1"),
            "fill.json": ("fill", .executor, "gordon.exec.fill.ema-cross-1"),
            "risk_command.json": ("risk_command", .risk, "gordon.risk.command.all"),
            "breaker.json": ("breaker", .risk, "gordon.risk.breaker.daily_loss"),
            "bot_lifecycle.json": ("bot_lifecycle", .bot, "gordon.bot.lifecycle.ema-cross-1"),
            "reconciliation.json": ("reconciliation", .executor, "gordon.exec.reconciliation"),
        ]
        #expect(Set(expected.keys) == Set(Fixtures.goldenFiles))
        for file in Fixtures.goldenFiles {
            let event = try Fixtures.codec.decodeAny(from: Golden.bytes(file))
            let want = try #require(expected[file])
            #expect(event.type == want.type, "\(file)")
            #expect(event.source == want.source, "\(file)")
            #expect(event.subject.string == want.subject, "\(file)")
            #expect(event.schemaVersion == 1)
            #expect(event.eventId.string == "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d")
            #expect(event.traceId.hex == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(event.occurredAt == Fixtures.occurredAt)
        }
    }

    @Test func unknownFieldsAnywhereAreIgnoredAndNonCanonicalInputReencodesCanonically() throws {
        let decoded = try Fixtures.codec.decode(KlineEvent.self, from: Golden.bytes("negative/kline_extra_fields.json"))
        #expect(decoded == (try Fixtures.klineEvent()))
        #expect(try Fixtures.codec.encode(decoded) == (try Golden.bytes("kline.json")))
        #expect(try Fixtures.codec.decodeAny(from: Golden.bytes("negative/kline_extra_fields.json")) == .kline(decoded))
    }

    @Test func encodingIsDeterministicWithKeysInByteOrder() throws {
        let codec = Fixtures.codec
        let first = try codec.encode(Fixtures.fillEvent())
        let second = try codec.encode(Fixtures.fillEvent())
        #expect(first == second)
        let text = String(decoding: first, as: UTF8.self)
        let topLevel = ["event_id", "occurred_at", "payload", "schema_version", "source", "trace_id", "type"]
        let offsets = topLevel.compactMap { text.firstRange(of: "\"\($0)\":")?.lowerBound }
        #expect(offsets.count == topLevel.count)
        #expect(offsets == offsets.sorted())
        #expect(topLevel == topLevel.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    @Test func absentOptionalsAreOmittedAndNullIsReadAsAbsent() throws {
        let golden = try Golden.text("order_intent_market_quote.json")
        for key in ["\"price\"", "\"time_in_force\"", "\"stop_price\"", "\"quantity\""] {
            #expect(!golden.contains(key), "\(key) should be omitted")
        }
        let withNulls = try edited("order_intent_market_quote.json", replacing: "\"order_type\":\"MARKET\"",
                                   with: "\"order_type\":\"MARKET\",\"price\":null,\"time_in_force\":null,\"quantity\":null")
        #expect(try Fixtures.codec.decode(OrderIntentEvent.self, from: withNulls) == Fixtures.marketQuoteIntentEvent())
    }
}
