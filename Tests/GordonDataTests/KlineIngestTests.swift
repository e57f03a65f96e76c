import BinanceSim
import GordonData
import GordonDomain
import GordonExchange
import GordonKernel
import GordonTestDB
import Testing

/// gordon-data's kline path against BinanceSim, PostgreSQL and nats-server on loopback.
@Suite("gordon-data: kline ingest", .serialized)
struct KlineIngestTests {
    static let minute: Int64 = 60_000

    /// Runs an ingest until `stored` klines are in the database.
    func ingest(_ world: DataWorld, until stored: Int, advance: Int = 0) async throws -> KlineIngest {
        let ingest = try world.ingest()
        let running = Task { await ingest.run() }
        defer { running.cancel() }
        // Klines published before the stream connects come back over REST, but wait for the
        // connection so most of them arrive the way they would in production.
        _ = try await eventually(timeout: .seconds(30)) { world.simulator.streamConnectionCount > 0 }
        world.simulator.advance(steps: advance)
        let done = try await eventually(timeout: .seconds(60)) { try await world.storedOpenTimes().count >= stored }
        let count = try await world.storedOpenTimes().count
        #expect(done, "stored \(count) of \(stored)")
        _ = try await eventually(timeout: .seconds(30)) { ingest.statistics.published >= ingest.statistics.stored }
        running.cancel()
        await running.value
        return ingest
    }

    @Test("closed klines land in market_data once each and in the stream once each, in open-time order")
    func endToEnd() async throws {
        try await DataWorld.with { world in
            let ingest = try await ingest(world, until: 5, advance: 5)
            let stored = try await world.storedOpenTimes()
            #expect(stored.count == 5)
            #expect(zip(stored, stored.dropFirst()).allSatisfy { $1 - $0 == Self.minute }, "\(stored)")
            #expect(try await world.streamedOpenTimes(expected: 5) == stored)
            #expect(ingest.statistics.stored == 5 && ingest.statistics.published == 5)
        }
    }

    @Test("a restart resumes after the newest stored kline: klines closed while down are backfilled, nothing is stored or streamed twice")
    func restartLeavesNoGap() async throws {
        try await DataWorld.with { world in
            _ = try await ingest(world, until: 3, advance: 3)
            // Down: four klines close that no running ingest sees.
            world.simulator.advance(steps: 4)
            let second = try await ingest(world, until: 7)
            let stored = try await world.storedOpenTimes()
            #expect(stored.count == 7)
            #expect(zip(stored, stored.dropFirst()).allSatisfy { $1 - $0 == Self.minute }, "\(stored)")
            // The newest stored kline is published again on start; the stream keeps one copy.
            #expect(second.statistics.duplicates >= 1)
            #expect(try await world.streamedOpenTimes(expected: 7) == stored)
        }
    }

    @Test("PostgreSQL stopped while klines close, then started again: every kline stored once, in order, no gap, streamed once")
    func survivesAPostgresStop() async throws {
        try await DataWorld.with(privatePostgres: true) { world in
            let postgres = try #require(world.postgres)
            let ingest = try world.ingest()
            let running = Task { await ingest.run() }
            _ = try await eventually(timeout: .seconds(30)) { world.simulator.streamConnectionCount > 0 }
            world.simulator.advance(steps: 5)
            #expect(try await eventually(timeout: .seconds(60)) { try await world.storedOpenTimes().count == 5 })

            try await postgres.stop()
            world.simulator.advance(steps: 6)  // closed while the database is down
            #expect(try await eventually(timeout: .seconds(30)) { ingest.statistics.storeFailures > 0 })
            try await postgres.start()
            world.simulator.advance(steps: 4)
            #expect(try await eventually(timeout: .seconds(90)) { (try? await world.storedOpenTimes().count) == 15 })
            running.cancel()
            await running.value

            let stored = try await world.storedOpenTimes()
            #expect(stored.count == 15)
            #expect(zip(stored, stored.dropFirst()).allSatisfy { $1 - $0 == Self.minute }, "gap or disorder in \(stored)")
            #expect(try await world.streamedOpenTimes(expected: 15) == stored)
        }
    }

    @Test("gordon-data's role commits without waiting for the WAL flush; no other role has a setting of its own")
    func asynchronousCommitForMarketDataOnly() async throws {
        try await withTestDatabase { database in
            let connection = try await database.connect()
            defer { Task { try? await connection.close() } }
            var settings: [String: String] = [:]
            for try await (role, setting) in try await connection.query("""
                SELECT r.rolname::text, s.setconfig::text FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                WHERE r.rolname LIKE 'gordon%'
                """, logger: testLogger).decode((String, String).self) {
                settings[role] = setting
            }
            #expect(settings == ["gordon_data_writer": "{synchronous_commit=off}"])
        }
    }

    @Test("the same kline stored twice is one row, and its event has the same message id both times")
    func replaysAreHarmless() async throws {
        try await DataWorld.with { world in
            let kline = try #require(world.simulator.advance(steps: 1).first)
            try await world.store.insert([kline])
            try await world.store.insert([kline])
            #expect(try await world.storedOpenTimes() == [kline.openTime.milliseconds])
            #expect(try await world.store.read(symbol: btcusdt, interval: .oneMinute, from: nil, to: nil, limit: 1) == [kline])
            #expect(try KlineEvents.envelope(kline).eventId == KlineEvents.envelope(kline).eventId)
            let other = try Kline(symbol: try Symbol("ETHUSDT"), interval: kline.interval, openTime: kline.openTime, closeTime: kline.closeTime,
                                  open: kline.open, high: kline.high, low: kline.low, close: kline.close, volume: kline.volume,
                                  quoteVolume: kline.quoteVolume, trades: kline.trades, takerBuyBaseVolume: kline.takerBuyBaseVolume,
                                  takerBuyQuoteVolume: kline.takerBuyQuoteVolume, isClosed: true)
            #expect(try KlineEvents.envelope(other).eventId != KlineEvents.envelope(kline).eventId)
        }
    }
}
