public import GordonDomain
public import GordonKernel
import GordonPostgres
import NIOCore
import PostgresNIO

extension KlineStore {
    /// Writes one series' klines in bulk, with COPY, skipping those already stored; returns
    /// how many were new. For backfills: tens of thousands of rows at a time.
    ///
    /// COPY cannot skip a duplicate (the role may not create the staging table that would
    /// let it), so the open times already stored in the klines' range are read first and left
    /// out; if the live ingest stores one of the rest in between, COPY fails on the primary
    /// key, nothing of it is kept, and the batch is written again by `insert`, which skips.
    public func bulkInsert(_ klines: [Kline]) async throws(GordonError) -> Int {
        guard let first = klines.first, let last = klines.last else { return 0 }
        let stored = Set(try await openTimes(symbol: first.symbol, interval: first.interval, from: first.openTime.milliseconds,
                                             to: last.openTime.milliseconds))
        let missing = klines.filter { !stored.contains($0.openTime.milliseconds) }
        guard !missing.isEmpty else { return 0 }
        do {
            try await database.withConnection { connection in
                // postgres-nio quotes the name whole ("…"); the inner quotes make it schema-qualified.
                try await connection.copyFrom(table: #"market_data"."klines"#, columns: Self.copyColumns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    for kline in missing {
                        Self.appendCopyRow(kline, to: &buffer)
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            logger.notice("klines stored meanwhile; writing the batch row by row", metadata: [
                "series": "\(Self.key(first.symbol, first.interval))", "rows": "\(missing.count)",
            ])
            try await insert(missing)
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "copy klines", "series": Self.key(first.symbol, first.interval)])
        }
        return missing.count
    }

    static let copyColumns = ["symbol", "interval", "open_time", "close_time", "open", "high", "low", "close", "volume",
                              "quote_volume", "trades", "taker_buy_base_volume", "taker_buy_quote_volume"]

    /// One row of COPY's text format: tab-separated, times in ISO 8601 UTC (exact to the
    /// millisecond), decimals in plain form. None of the fields can hold a tab, newline or
    /// backslash. Digits are written straight into the buffer: a backfill formats ten fields
    /// for every row, and building a String for each was a third of its time.
    static func appendCopyRow(_ kline: Kline, to buffer: inout ByteBuffer) {
        buffer.writeString(kline.symbol.rawValue)
        buffer.writeInteger(UInt8(ascii: "\t"))
        buffer.writeString(kline.interval.rawValue)
        for time in [kline.openTime, kline.closeTime] {
            buffer.writeInteger(UInt8(ascii: "\t"))
            appendTime(time.milliseconds, to: &buffer)
        }
        for value in [kline.open.value, kline.high.value, kline.low.value, kline.close.value, kline.volume.value, kline.quoteVolume] {
            buffer.writeInteger(UInt8(ascii: "\t"))
            appendDecimal(value, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendDecimal(ExactDecimal(significand: Int128(kline.trades), scale: 0), to: &buffer)
        for value in [kline.takerBuyBaseVolume, kline.takerBuyQuoteVolume] {
            buffer.writeInteger(UInt8(ascii: "\t"))
            appendDecimal(value, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// `ExactDecimal.description`'s plain form, without the intermediate strings.
    static func appendDecimal(_ value: ExactDecimal, to buffer: inout ByteBuffer) {
        let magnitude = value.significand.magnitude
        // At most 38 digits, or scale + 1 with the leading "0". Digits come out last first;
        // 64-bit division where the value fits (it nearly always does): 128-bit division per
        // digit was most of a backfill's own time.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { digits in
            var count = 0
            func emit<Magnitude: BinaryInteger>(_ value: Magnitude) {
                var rest = value
                repeat {
                    digits[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    count += 1
                } while rest > 0
            }
            if let small = UInt64(exactly: magnitude) { emit(small) } else { emit(magnitude) }
            while count <= value.scale {  // at least "0." before the fraction
                digits[count] = UInt8(ascii: "0")
                count += 1
            }
            if value.significand < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
            for index in stride(from: count - 1, through: 0, by: -1) {
                if index == value.scale - 1 { buffer.writeInteger(UInt8(ascii: ".")) }
                buffer.writeInteger(digits[index])
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `Timestamp.description` prints it, written in place.
    static func appendTime(_ milliseconds: Int64, to buffer: inout ByteBuffer) {
        let day = CivilDate.millisecondsPerDay
        let days = milliseconds >= 0 ? milliseconds / day : (milliseconds - day + 1) / day
        let date = CivilDate(daysSinceEpoch: days)
        guard (0...9999).contains(date.year) else {  // four digits below; any other year as Timestamp prints it
            buffer.writeString(Timestamp(milliseconds: milliseconds).description)
            return
        }
        let inDay = milliseconds - days * day
        func write(_ value: Int64, width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                buffer.writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        write(date.year, width: 4)
        buffer.writeInteger(UInt8(ascii: "-"))
        write(date.month, width: 2)
        buffer.writeInteger(UInt8(ascii: "-"))
        write(date.day, width: 2)
        buffer.writeInteger(UInt8(ascii: "T"))
        write(inDay / 3_600_000, width: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        write(inDay / 60_000 % 60, width: 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        write(inDay / 1000 % 60, width: 2)
        buffer.writeInteger(UInt8(ascii: "."))
        write(inDay % 1000, width: 3)
        buffer.writeInteger(UInt8(ascii: "Z"))
    }

    /// Open times stored for the series in `[from, to]`, through the reader view.
    func openTimes(symbol: Symbol, interval: Interval, from: Int64, to: Int64) async throws(GordonError) -> [Int64] {
        var binds = PostgresBindings()
        binds.append(symbol.rawValue)
        binds.append(interval.rawValue)
        binds.append(from)
        binds.append(to)
        var times: [Int64] = []
        do {
            let rows = try await database.query(PostgresQuery(unsafeSQL: """
                SELECT (extract(epoch FROM open_time) * 1000)::bigint FROM market_data.v_klines_reader
                WHERE symbol = $1 AND interval = $2
                  AND open_time BETWEEN 'epoch'::timestamptz + $3 * interval '1 millisecond' AND 'epoch'::timestamptz + $4 * interval '1 millisecond'
                """, binds: binds), logger: logger)
            for try await time in rows.decode(Int64.self) { times.append(time) }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read kline open times", "series": Self.key(symbol, interval)])
        }
        return times
    }
}
