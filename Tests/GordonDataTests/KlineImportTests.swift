import Foundation
import GordonData
import GordonDomain
import GordonExchange
import GordonKernel
import GordonKlineFiles
import GordonTestDB
import Testing

/// Binance public-data kline files into market_data.klines: every column exact, checked whole
/// before anything is written, repeatable.
@Suite("gordon-data: importing Binance kline files", .serialized)
struct KlineImportTests {
    static let firstOpen: Int64 = 1_704_067_200_000  // 2024-01-01T00:00Z

    /// `count` one-minute rows from `first` in Binance's 12-column shape, prices padded to 8
    /// places as Binance prints them; `microseconds` as in files from 2025 on.
    static func file(first: Int, count: Int, microseconds: Bool = false, header: Bool = false) -> String {
        var text = header ? BinanceKlineCSV.header + "\r\n" : ""
        for index in first..<(first + count) {
            let open = firstOpen + Int64(index) * 60_000
            let scale: Int64 = microseconds ? 1000 : 1
            let cents = 4_228_358 + index
            func price(_ cents: Int) -> String { "\(cents / 100).\(String(format: "%02d", cents % 100))000000" }
            text += "\(open * scale),\(price(cents)),\(price(cents + 7)),\(price(cents - 3)),\(price(cents + 1)),35.92724000,"
                + "\((open + 59_999) * scale + (microseconds ? 999 : 0)),1519032.66047030,\(1000 + index),23.31640000,985748.71718540,0\n"
        }
        return text
    }

    @Test("every column is kept exactly, from a file with a header, CRLF and microsecond times")
    func parsesExactly() throws {
        let klines = try BinanceKlineCSV.parseKlines(Array(Self.file(first: 0, count: 3, microseconds: true, header: true).utf8),
                                                     name: "BTCUSDT-1m-2025-01-01.csv", symbol: btcusdt, interval: .oneMinute)
        #expect(klines.count == 3)
        let first = try #require(klines.first)
        #expect(first.openTime.milliseconds == Self.firstOpen && first.closeTime.milliseconds == Self.firstOpen + 59_999)
        let decimal = { (text: String) in try ExactDecimal(parsing: text) }
        let printed = [first.open.value, first.high.value, first.quoteVolume, first.takerBuyBaseVolume, first.takerBuyQuoteVolume]
        #expect(printed == [try decimal("42283.58"), try decimal("42283.65"), try decimal("1519032.6604703"), try decimal("23.3164"),
                            try decimal("985748.7171854")])
        #expect(first.trades == 1000 && klines.allSatisfy(\.isClosed))
    }

    @Test("a 6-column file, a row out of order and a field past 38 digits are refused naming the line", arguments: [
        ("1704067200000,1.0,1.0,1.0,1.0,1.0\n", "importing needs Binance's 12 columns"),
        (file(first: 1, count: 1) + file(first: 0, count: 1), "line 2"),
        (file(first: 0, count: 1).replacingOccurrences(of: "35.92724000", with: String(repeating: "9", count: 39) + ".5"), "line 1"),
        (file(first: 0, count: 1).replacingOccurrences(of: ",1000,", with: ",1000.5,"), "count is not a whole number"),
    ])
    func refuses(_ text: String, _ message: String) {
        #expect {
            _ = try BinanceKlineCSV.parseKlines(Array(text.utf8), name: "bad.csv", symbol: btcusdt, interval: .oneMinute)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("an import filed by the manager: gordon-data imports the file from the import directory and removes it; a missing file fails the request")
    func filedImports() async throws {
        try await DataWorld.with(preload: 0) { world in
            try await withScratchDirectory { directory in
                let database = try #require(world.database)
                let manager = try await database.connect(as: .manager)
                defer { Task { try? await manager.close() } }
                let stored = String(repeating: "ab", count: 32) + ".csv"
                try Self.file(first: 0, count: 120).write(toFile: directory + "/" + stored, atomically: true, encoding: .utf8)
                for file in [stored, String(repeating: "cd", count: 32) + ".zip"] {
                    try await manager.query("""
                        INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by, file_name)
                        VALUES ('BTCUSDT', '1m', 'epoch'::timestamptz + \(Self.firstOpen) * interval '1 millisecond',
                                'epoch'::timestamptz + \(Self.firstOpen + 119 * 60_000) * interval '1 millisecond', 'operator:alice', \(file))
                        """, logger: testLogger)
                }
                let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: world.endpoint), logger: testLogger)
                let requests = BackfillRequests(rest: rest, store: world.store, database: world.pool, logger: testLogger, importDirectory: directory)
                #expect(try await requests.processNext())
                #expect(try await requests.processNext())
                let rows = try await manager.query("""
                    SELECT status, progress, written, coalesce(error, '') FROM market_data.v_backfill_requests ORDER BY id
                    """, logger: testLogger).collect().map { try $0.decode((String, Int, Int64, String).self) }
                #expect(rows.first.map { $0.0 == "succeeded" && $0.1 == 100 && $0.2 == 120 } == true, "\(rows)")
                #expect(rows.last.map { $0.0 == "failed" && $0.3.contains("cdcd") } == true, "\(rows)")
                #expect(try await world.storedCount() == 120)
                #expect(!FileManager.default.fileExists(atPath: directory + "/" + stored))
            }
        }
    }

    @Test("files imported with COPY: overlaps and repeats skipped, a file with a bad row writes nothing, values read back as printed")
    func importsFiles() async throws {
        try await DataWorld.with(preload: 1) { world in try await withScratchDirectory { directory in
            try Self.file(first: 0, count: 3000, header: true).write(toFile: directory + "/a.csv", atomically: true, encoding: .utf8)
            try Self.file(first: 2500, count: 1500, microseconds: true).write(toFile: directory + "/b.csv", atomically: true, encoding: .utf8)
            try (Self.file(first: 4000, count: 100) + "1704307200000,oops\n").write(toFile: directory + "/c.csv", atomically: true, encoding: .utf8)
            let series = KlineSeriesKey(symbol: btcusdt, interval: .oneMinute)

            var reports: [BulkWriteProgress] = []
            let done = try await KlineImport(series: series, paths: [directory + "/a.csv", directory + "/b.csv"], batchSize: 1000)
                .run(store: world.store) { reports.append($0) }
            #expect(done.fetched == 4500 && done.written == 4000)
            #expect(reports.count >= 5 && done.line.contains("100% of the files"))
            #expect(try await world.storedCount() == 4000)
            let again = try await KlineImport(series: series, paths: [directory + "/b.csv"]).run(store: world.store)
            #expect(again.written == 0)

            await #expect(throws: GordonError.self) {
                _ = try await KlineImport(series: series, paths: [directory + "/c.csv"]).run(store: world.store)
            }
            #expect(try await world.storedCount() == 4000, "nothing of the file with a bad row was written")

            let expected = try BinanceKlineCSV.parseKlines(Array(Self.file(first: 3990, count: 10).utf8), name: "x", symbol: btcusdt, interval: .oneMinute)
            let stored = try await world.store.read(symbol: btcusdt, interval: .oneMinute, from: Self.firstOpen + 3990 * 60_000, to: nil, limit: 10)
            #expect(stored == expected)
        } }
    }

    @Test("gordon-data import reads a data.binance.vision zip as the service's role and prints progress; a missing file is named")
    func importCommand() async throws {
        try await DataWorld.with(preload: 1) { world in try await withScratchDirectory { directory in
            try Self.file(first: 0, count: 1440).write(toFile: directory + "/BTCUSDT-1m-2024-01-01.csv", atomically: true, encoding: .utf8)
            let zipped = try await TestCommand.runProgram("/usr/bin/python3", ["-c", """
                import sys, zipfile
                with zipfile.ZipFile(sys.argv[1] + "/BTCUSDT-1m-2024-01-01.zip", "w", zipfile.ZIP_DEFLATED) as z:
                    z.write(sys.argv[1] + "/BTCUSDT-1m-2024-01-01.csv", "BTCUSDT-1m-2024-01-01.csv")
                """, directory])
            #expect(zipped.status == 0, "\(zipped.stderr)")
            let (keyfile, databaseURL) = try world.writeKeyfile(in: directory)
            let arguments = ["import", "--database-url", databaseURL, "--keyfile", keyfile, "--symbol", "BTCUSDT", "--interval", "1m"]
            let result = try await TestCommand.run("gordon-data", arguments + [directory + "/BTCUSDT-1m-2024-01-01.zip"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("done: rows 1440 (new 1440)") && result.stdout.contains("rows/s"), "\(result.stdout)")
            #expect(try await world.storedCount() == 1440)
            let missing = try await TestCommand.run("gordon-data", arguments + [directory + "/BTCUSDT-1m-2024-01-02.zip"])
            #expect(missing.status != 0 && missing.stderr.contains("BTCUSDT-1m-2024-01-02.zip"), "\(missing.stderr)")
        } }
    }
}
