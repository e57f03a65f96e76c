import BinanceSim
import GordonBus
import GordonData
import GordonDomain
import GordonKernel
import GordonNATS
import GordonPostgres
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing

/// Deribit's and FRED's answers as their documentation prints them, decoded exactly; and each
/// source polled from the simulator into its tables and the stream.
@Suite("gordon-data: Deribit and FRED", .serialized)
struct AlternativeSourceTests {
    static let fredKey = "0123456789abcdef0123456789abcdef"

    // MARK: Decoding, without sockets

    /// docs.deribit.com, public/get_volatility_index_data (its example, with the envelope's
    /// timing fields that live answers carry).
    static let dvol = #"""
        {"jsonrpc":"2.0","result":{"data":[[1598019300000,0.210084879,0.212860821,0.210084879,0.212860821],
        [1598019360000,0.212869011,0.212987527,0.212869011,0.212987527]],"continuation":null},
        "usIn":1598019420000123,"usOut":1598019420000456,"usDiff":333,"testnet":false}
        """#

    @Test("a DVOL answer: each row's close at its timestamp, digits as printed")
    func decodesDVOL() throws {
        let source = try DeribitVolatilitySource(currency: "BTC")
        let observations = try source.decode(Array(Self.dvol.utf8))
        #expect(observations.map(\.observedAt.milliseconds) == [1_598_019_300_000, 1_598_019_360_000])
        #expect(observations.map(\.value) == [try ExactDecimal(parsing: "0.212860821"), try ExactDecimal(parsing: "0.212987527")])
        #expect(observations.allSatisfy { $0.name.rawValue == "dvol_btc" && $0.record == .series })
    }

    @Test("a funding answer: the 8-hour rate, exponent notation read exactly, into funding_rates")
    func decodesFunding() throws {
        let body = #"""
            {"jsonrpc":"2.0","result":[{"timestamp":1569891600000,"index_price":8222.87,"prev_index_price":8305.72,
            "interest_8h":-0.00009234260068476106,"interest_1h":-4.739622041017375e-7},
            {"timestamp":1569895200000,"index_price":8241.4,"prev_index_price":8222.87,"interest_8h":-4.739622041017375e-7,"interest_1h":0}],
            "usIn":1,"usOut":2,"usDiff":1,"testnet":false}
            """#
        let observations = try DeribitFundingSource(instrument: "BTC-PERPETUAL").decode(Array(body.utf8))
        #expect(observations.map(\.value) == [try ExactDecimal(parsing: "-0.00009234260068476106"),
                                               try ExactDecimal(parsing: "-0.0000004739622041017375")])
        #expect(observations.first?.name.rawValue == "funding_btc_perpetual")
        #expect(observations.first?.record == .funding(venue: "deribit", instrument: "BTC-PERPETUAL"))
    }

    @Test("a book summary: open interest of a perpetual, in USD, at the summary's time")
    func decodesOpenInterest() throws {
        let body = #"""
            {"jsonrpc":"2.0","result":[{"volume_usd":118254340,"volume":1765.4,"quote_currency":"USD","price_change":0.53,
            "open_interest":502231260,"mid_price":67012.25,"mark_price":67010.11,"low":66200,"last":67012.5,
            "interest_rate":0,"instrument_name":"BTC-PERPETUAL","high":67550,"funding_8h":0.00001022,"current_funding":0,
            "creation_timestamp":1713542400000,"bid_price":67012,"base_currency":"BTC","ask_price":67012.5}],
            "usIn":1,"usOut":2,"usDiff":1,"testnet":false}
            """#
        let observations = try DeribitOpenInterestSource(instrument: "BTC-PERPETUAL").decode(Array(body.utf8))
        #expect(observations == [MetricObservation(
            name: try MetricName("open_interest_btc_perpetual"), observedAt: Timestamp(milliseconds: 1_713_542_400_000),
            value: ExactDecimal(502_231_260), source: "deribit", unit: "usd",
            record: .openInterest(venue: "deribit", instrument: "BTC-PERPETUAL", usd: ExactDecimal(502_231_260)))])
    }

    /// fred.stlouisfed.org/docs/api/fred/series_observations.html, JSON, with a day without a value.
    static let fredBody = #"""
        {"realtime_start":"2024-01-10","realtime_end":"2024-01-10","observation_start":"2024-01-01","observation_end":"9999-12-31",
        "units":"lin","output_type":1,"file_type":"json","order_by":"observation_date","sort_order":"asc","count":3,"offset":0,
        "limit":100000,"observations":[
        {"realtime_start":"2024-01-10","realtime_end":"2024-01-10","date":"2024-01-01","value":"."},
        {"realtime_start":"2024-01-10","realtime_end":"2024-01-10","date":"2024-01-02","value":"3.95"},
        {"realtime_start":"2024-01-10","realtime_end":"2024-01-10","date":"2024-01-03","value":"3.91"}]}
        """#

    @Test("FRED observations: a '.' day is skipped, the others are exact and kept by series and date")
    func decodesFRED() throws {
        let observations = try FREDSource(seriesId: "DGS10", apiKey: Secret(Self.fredKey)).decode(Array(Self.fredBody.utf8))
        #expect(observations.map(\.value) == [try ExactDecimal(parsing: "3.95"), try ExactDecimal(parsing: "3.91")])
        #expect(observations.map(\.observedAt.milliseconds) == [1_704_153_600_000, 1_704_240_000_000])
        #expect(observations.first?.record == .macro(seriesId: "DGS10", date: "2024-01-02"))
        #expect(observations.first?.name.rawValue == "fred_dgs10")
    }

    @Test("an answer that is cut off, an error envelope, or a value out of shape is refused whole", arguments: [
        ("dvol", #"{"jsonrpc":"2.0","result":{"data":[[1598019300000,0.21,0.21,0.21"#),
        ("dvol", #"{"jsonrpc":"2.0","error":{"message":"Invalid params","data":{"reason":"wrong format","param":"currency"},"code":-32602}}"#),
        ("dvol", #"{"jsonrpc":"2.0","result":{"data":[[1598019300000,0.21,0.21,0.21,0.21],[1598019360000,0.21]],"continuation":null}}"#),
        ("funding", #"{"jsonrpc":"2.0","result":[{"timestamp":1569891600000,"interest_8h":"0.0001"}]}"#),
        ("oi", #"{"jsonrpc":"2.0","result":[{"instrument_name":"ETH-PERPETUAL","open_interest":1,"creation_timestamp":1}]}"#),
        ("fred", #"{"observations":[{"date":"2024-01-02","value":"3.95"},{"date":"2024-02-30","value":"3.91"}]}"#),
        ("fred", #"{"observations":[{"date":"2024-01-02","value":"3.95"},{"date":"2024-01-03","value":"n/a"}]}"#),
    ])
    func refusesWhole(_ kind: String, _ body: String) throws {
        let source: any MetricSource = switch kind {
        case "dvol": try DeribitVolatilitySource(currency: "BTC")
        case "funding": try DeribitFundingSource(instrument: "BTC-PERPETUAL")
        case "oi": try DeribitOpenInterestSource(instrument: "BTC-PERPETUAL")
        default: try FREDSource(seriesId: "DGS10", apiKey: Secret(Self.fredKey))
        }
        #expect(throws: GordonError.self) { _ = try source.decode(Array(body.utf8)) }
    }

    @Test("DVOL is asked for up to its last finished row, never the one under way")
    func dvolWindowEndsAtAFinishedRow() throws {
        let request = try DeribitVolatilitySource(currency: "btc", window: .seconds(3600)).request(now: Timestamp(milliseconds: 1_704_067_230_000))
        #expect(request.path == "/api/v2/public/get_volatility_index_data?currency=BTC&start_timestamp=1704063599999"
                + "&end_timestamp=1704067199999&resolution=60")
    }

    @Test("the FRED key is in the request only: what logs and errors show has it masked")
    func masksTheKey() throws {
        let request = try FREDSource(seriesId: "DFF", apiKey: Secret(Self.fredKey)).request(now: Timestamp(milliseconds: 1_704_240_000_000))
        #expect(request.path.contains("api_key=\(Self.fredKey)") && request.path.contains("observation_start=2023-09-05"))
        #expect(!request.loggedPath.contains(Self.fredKey) && request.loggedPath.contains("api_key=[redacted]"))
        #expect(!"\(request)".contains(Self.fredKey), "interpolating the request shows the masked path")
    }

    // MARK: Polled from the simulator

    func poller(_ source: any MetricSource, _ world: DataWorld, baseURL: String? = nil) -> MetricPoller {
        MetricPoller(source: source, baseURL: baseURL ?? world.endpoint.restBaseURL, database: world.pool,
                     publisher: JetStreamEventPublisher(jetStream: world.jetStream), logger: testLogger)
    }

    @Test("every Deribit and FRED source polled twice: each value stored once in metrics and its typed table, streamed once")
    func pollsEachSource() async throws {
        try await DataWorld.with { world in
            let sources: [any MetricSource] = [
                try DeribitVolatilitySource(currency: "BTC", window: .seconds(30 * 60)), try DeribitFundingSource(instrument: "ETH-PERPETUAL"),
                try DeribitOpenInterestSource(instrument: "BTC-PERPETUAL"), try FREDSource(seriesId: "DGS10", apiKey: Secret(Self.fredKey), lookbackDays: 30),
            ]
            var expected = 0
            for source in sources {
                let poller = poller(source, world)
                try await poller.pollOnce()
                try await poller.pollOnce()
                #expect(poller.statistics.published == poller.statistics.stored && poller.statistics.stored > 0, "\(source.id)")
                expected += poller.statistics.stored
            }
            #expect(try await world.metricCount() == expected)
            #expect(try await world.streamedMetrics(expected: expected) == expected)
            let typed = try await world.count("""
                SELECT (SELECT count(*) FROM market_data.v_funding_rates_reader WHERE venue = 'deribit' AND instrument = 'ETH-PERPETUAL')
                     + (SELECT count(*) FROM market_data.v_open_interest_reader WHERE open_interest_usd = open_interest)
                     + (SELECT count(*) FROM market_data.v_macro_reader WHERE series_id = 'DGS10' AND source = 'fred')
                """)
            let dvol = try await world.count("SELECT count(*) FROM market_data.v_metrics_reader WHERE name = 'dvol_btc'")
            #expect(typed + dvol == expected && dvol >= 29)
        }
    }

    @Test("values stored while NATS was unreachable are published by the next start; values already streamed are not streamed twice")
    func publishesWhatACrashLeftUnpublished() async throws {
        try await DataWorld.with { world in
            let source = try DeribitFundingSource(instrument: "BTC-PERPETUAL", window: .seconds(6 * 3600))
            // The poll stores, then cannot publish: the state a crash between the two leaves.
            let cut = try await NATSClient.connect(try NATSClientOptions(urls: [world.natsURL], name: "cut"), logger: testLogger)
            await cut.close()
            let stranded = MetricPoller(source: source, baseURL: world.endpoint.restBaseURL, database: world.pool,
                                        publisher: JetStreamEventPublisher(jetStream: JetStream(client: cut)), logger: testLogger)
            await #expect(throws: GordonError.self) { try await stranded.pollOnce() }
            let stored = try await world.metricCount()
            #expect(stored >= 5 && stranded.statistics.published == 0)

            let restarted = poller(source, world)
            try await restarted.pollOnce()
            #expect(restarted.statistics.stored == 0 && restarted.statistics.published == stored)
            #expect(try await world.streamedMetrics(expected: stored) == stored)
            try await restarted.pollOnce()
            #expect(restarted.statistics.published == stored, "a later poll of the same process publishes nothing again")

            let again = poller(source, world)
            try await again.pollOnce()  // republishes what is recent; the stream drops what it has
            #expect(try await world.streamedMetrics(expected: stored) == stored)
        }
    }

    @Test("a 5xx, a provider's 400, a refused connection and a cut-off answer store nothing, and none shows the FRED key")
    func failuresStoreNothingAndHideTheKey() async throws {
        try await DataWorld.with { world in
            let source = try FREDSource(seriesId: "DFF", apiKey: Secret(Self.fredKey), lookbackDays: 10)
            let poller = poller(source, world)
            world.simulator.updateFaults { $0.serverErrors = 1 }
            var failures: [GordonError] = []
            do { try await poller.pollOnce() } catch let error as GordonError { failures.append(error) }
            world.simulator.updateFaults { $0.malformedSourceReplies = 1 }
            do { try await poller.pollOnce() } catch let error as GordonError { failures.append(error) }
            let refused = self.poller(source, world, baseURL: "http://127.0.0.1:9")
            do { try await refused.pollOnce() } catch let error as GordonError { failures.append(error) }
            let wrongKey = self.poller(try FREDSource(seriesId: "DFF", apiKey: Secret("not-a-key")), world)
            do { try await wrongKey.pollOnce() } catch let error as GordonError { failures.append(error) }
            #expect(failures.count == 4)
            #expect(failures.allSatisfy { !"\($0)".contains(Self.fredKey) }, "\(failures)")
            #expect("\(failures[3])".contains("is not a 32 character alpha-numeric lower-case string"), "FRED's reason is kept: \(failures[3])")
            #expect(try await world.metricCount() == 0)
            try await poller.pollOnce()
            #expect(try await world.metricCount() == 10, "DFF is daily: ten days back to yesterday")
        }
    }

    @Test("/metrics/series reads one series by name and time, oldest first")
    func readsSeries() async throws {
        try await DataWorld.with { world in
            let poller = poller(try FREDSource(seriesId: "DFF", apiKey: Secret(Self.fredKey), lookbackDays: 20), world)
            try await poller.pollOnce()
            let store = MetricStore(database: world.pool, logger: testLogger)
            let newest = try await store.series(name: try MetricName("fred_dff"), from: nil, to: nil, limit: 5)
            #expect(newest.count == 5 && zip(newest, newest.dropFirst()).allSatisfy { $0.time + 86_400_000 == $1.time })
            let all = try await store.series(name: try MetricName("fred_dff"), from: 0, to: nil, limit: 100)
            #expect(all.count == 20 && all.suffix(5) == newest[...])
            let window = try await store.series(name: try MetricName("fred_dff"), from: all[3].time, to: all[6].time, limit: 100)
            #expect(window == Array(all[3...6]))
        }
    }
}

extension DataWorld {
    /// One count through the reader views, as gordon-data's role.
    func count(_ sql: String) async throws -> Int {
        let connection = try await Database.connect(writerURL, logger: testLogger)
        defer { Task { try? await connection.close() } }
        for try await count in try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::int"), logger: testLogger).decode(Int.self) {
            return count
        }
        return -1
    }
}
