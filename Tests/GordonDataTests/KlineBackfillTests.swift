import BinanceSim
import Foundation
import GordonData
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Testing

@Suite("gordon-data: historical backfill", .serialized)
struct KlineBackfillTests {
    static let firstOpen: Int64 = 1_704_067_200_000

    @Test("a backfill writes the range with COPY, skipping klines already stored, and reports its progress")
    func backfillSkipsStored() async throws {
        try await DataWorld.with(preload: 2500) { world in
            let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: world.endpoint), logger: testLogger)
            // Some of the range is already there, as after the live ingest or an earlier run.
            let stored = try await rest.klines(symbol: btcusdt, interval: .oneMinute, startTime: Self.firstOpen + 100 * 60_000, limit: 50)
            try await world.store.insert(stored)
            var reports: [KlineBackfill.Progress] = []
            let backfill = try KlineBackfill(series: KlineSeriesKey(symbol: btcusdt, interval: .oneMinute),
                                             from: Self.firstOpen, to: Self.firstOpen + 2499 * 60_000, batchSize: 1000)
            let done = try await backfill.run(rest: rest, store: world.store) { reports.append($0) }
            #expect(done.fetched == 2500 && done.written == 2450)
            #expect(reports.count >= 3 && reports.map(\.fetched) == reports.map(\.fetched).sorted())
            #expect(done.line.contains("100% of the range"))
            let times = try await world.store.read(symbol: btcusdt, interval: .oneMinute, from: 0, to: nil, limit: 1000).map(\.openTime.milliseconds)
            #expect(times.first == Self.firstOpen && times.count == 1000)
            let all = try await world.storedCount()
            #expect(all == 2500)
            // Run again: nothing new.
            #expect(try await backfill.run(rest: rest, store: world.store).written == 0)
            #expect(try await world.storedCount() == 2500)
            // What COPY wrote reads back exactly as the exchange sent it.
            let sample = try await rest.klines(symbol: btcusdt, interval: .oneMinute, startTime: Self.firstOpen + 2000 * 60_000, limit: 3)
            #expect(try await world.store.read(symbol: btcusdt, interval: .oneMinute, from: Self.firstOpen + 2000 * 60_000, to: nil, limit: 3) == sample)
        }
    }

    @Test("a backfill the manager filed is taken by gordon-data, run, and its end written; one the exchange refuses fails saying why")
    func filedBackfills() async throws {
        try await DataWorld.with(preload: 1500) { world in
            let database = try #require(world.database)
            let manager = try await database.connect(as: .manager)
            defer { Task { try? await manager.close() } }
            for (symbol, from, to) in [("BTCUSDT", Self.firstOpen, Self.firstOpen + 1199 * 60_000), ("ETHUSDT", Self.firstOpen, Self.firstOpen + 60_000)] {
                try await manager.query("""
                    INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by)
                    VALUES (\(symbol), '1m', 'epoch'::timestamptz + \(from) * interval '1 millisecond',
                            'epoch'::timestamptz + \(to) * interval '1 millisecond', 'operator:alice')
                    """, logger: testLogger)
            }
            let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: world.endpoint), logger: testLogger)
            let requests = BackfillRequests(rest: rest, store: world.store, database: world.pool, logger: testLogger)
            #expect(try await requests.processNext())
            #expect(try await requests.processNext())
            #expect(try await !requests.processNext())  // nothing queued
            let rows = try await manager.query("""
                SELECT symbol, status, progress, fetched, written, coalesce(error, ''), started_at IS NOT NULL AND finished_at IS NOT NULL
                FROM market_data.v_backfill_requests ORDER BY id
                """, logger: testLogger).collect().map { try $0.decode((String, String, Int, Int64, Int64, String, Bool).self) }
            #expect(rows.count == 2)
            #expect(rows.first.map { $0.1 == "succeeded" && $0.2 == 100 && $0.3 == 1200 && $0.4 == 1200 && $0.6 } == true,
                    "\(String(describing: rows.first))")
            #expect(rows.last.map { $0.1 == "failed" && $0.5.contains("Invalid symbol") && $0.6 } == true, "\(String(describing: rows.last))")
            #expect(try await world.storedCount() == 1200)
        }
    }

    @Test("gordon-data backfill runs as the service's role and prints progress; a bad --from is refused with what was wrong")
    func backfillCommand() async throws {
        try await DataWorld.with(preload: 300) { world in
            try await withScratchDirectory { directory in
                let (keyfile, databaseURL) = try world.writeKeyfile(in: directory)
                let arguments = ["backfill", "--database-url", databaseURL, "--keyfile", keyfile,
                                 "--binance", world.endpoint.restBaseURL, "--symbol", "BTCUSDT", "--interval", "1m"]
                let result = try await TestCommand.run("gordon-data", arguments + ["--from", "2024-01-01", "--to", "2024-01-01T04:59"])
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout.contains("done: rows 300 (new 300)"), "\(result.stdout)")
                #expect(try await world.storedCount() == 300)
                let refused = try await TestCommand.run("gordon-data", arguments + ["--from", "yesterday"])
                #expect(refused.status != 0)
                #expect(refused.stderr.contains("--from must be YYYY-MM-DD"), "\(refused.stderr)")
            }
        }
    }
}
