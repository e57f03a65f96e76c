public import GordonDomain
public import GordonKernel
import GordonPostgres
public import Logging
public import PostgresNIO

/// `market_data.klines` as gordon-data sees it: it inserts closed klines and reads them back
/// only through `market_data.v_klines_reader`, as its role allows (INSERT on the table,
/// SELECT on the view).
///
/// A kline is final once closed, so a second insert of the same (symbol, interval, open
/// time) is skipped, not merged: replays after a reconnect or a restart change nothing.
public struct KlineStore: Sendable {
    public let database: PostgresClient
    public let logger: Logger

    public init(database: PostgresClient, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Inserts closed klines in one statement; those already stored are skipped.
    public func insert(_ klines: [Kline]) async throws(GordonError) {
        guard !klines.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(klines.map(\.symbol.rawValue))
        binds.append(klines.map(\.interval.rawValue))
        binds.append(klines.map(\.openTime.milliseconds))
        binds.append(klines.map(\.closeTime.milliseconds))
        for column: KeyPath<Kline, ExactDecimal> in [\.open.value, \.high.value, \.low.value, \.close.value, \.volume.value,
                                                     \.quoteVolume, \.takerBuyBaseVolume, \.takerBuyQuoteVolume] {
            binds.append(klines.map { $0[keyPath: column].description })
        }
        binds.append(klines.map { Int64($0.trades) })
        do {
            // Prepared once per connection: the live path inserts one kline at a time, and
            // planning the statement each time was a quarter of its round trip (benchmark).
            for try await _ in try await database.execute(InsertKlines(bindings: binds), logger: logger) {}
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "insert klines", "first": "\(klines[0].symbol)@\(klines[0].interval)"])
        }
    }

    public static func key(_ symbol: Symbol, _ interval: Interval) -> String { "\(symbol.rawValue)@\(interval.rawValue)" }

    /// Stored klines of one series with open time in `[from, to]`, oldest first, at most
    /// `limit`: from `from` on when it is given, otherwise the newest `limit` (as Binance's
    /// `/klines` answers).
    public func read(symbol: Symbol, interval: Interval, from: Int64?, to: Int64?, limit: Int) async throws(GordonError) -> [Kline] {
        var binds = PostgresBindings()
        binds.append(symbol.rawValue)
        binds.append(interval.rawValue)
        binds.append(from ?? Int64.min)
        binds.append(to ?? Int64.max)
        binds.append(Int64(limit))
        let newestFirst = from == nil
        let sql = """
            SELECT (extract(epoch FROM open_time) * 1000)::bigint, (extract(epoch FROM close_time) * 1000)::bigint,
                   open::text, high::text, low::text, close::text, volume::text, quote_volume::text, trades,
                   taker_buy_base_volume::text, taker_buy_quote_volume::text
            FROM market_data.v_klines_reader
            WHERE symbol = $1 AND interval = $2
              AND open_time >= 'epoch'::timestamptz + greatest($3, -62135596800000) * interval '1 millisecond'
              AND open_time <= 'epoch'::timestamptz + least($4, 253402300799999) * interval '1 millisecond'
            ORDER BY open_time \(newestFirst ? "DESC" : "ASC") LIMIT $5
            """
        var klines: [Kline] = []
        do {
            let rows = try await database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (open, close, o, h, l, c, v, qv, trades, tb, tq) in rows.decode(
                (Int64, Int64, String, String, String, String, String, String, Int64, String, String).self) {
                klines.append(try Kline(
                    symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: open), closeTime: Timestamp(milliseconds: close),
                    open: Price(ExactDecimal(parsing: o)), high: Price(ExactDecimal(parsing: h)), low: Price(ExactDecimal(parsing: l)),
                    close: Price(ExactDecimal(parsing: c)), volume: Quantity(ExactDecimal(parsing: v)), quoteVolume: ExactDecimal(parsing: qv),
                    trades: Int(trades), takerBuyBaseVolume: ExactDecimal(parsing: tb), takerBuyQuoteVolume: ExactDecimal(parsing: tq),
                    isClosed: true))
            }
        } catch let error as GordonError {
            throw error
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read klines", "series": Self.key(symbol, interval)])
        }
        return newestFirst ? klines.reversed() : klines
    }
}

/// The klines insert, one row per array element. Millisecond times through interval
/// arithmetic, not to_timestamp(double): exact. ON CONFLICT names no target: inferring one
/// needs SELECT on the table, which the role lacks, and the primary key is the table's only
/// unique constraint.
struct InsertKlines: PostgresPreparedStatement {
    typealias Row = Void
    static let name = "gordon_data_insert_klines"
    static let sql = """
        INSERT INTO market_data.klines (symbol, interval, open_time, close_time, open, high, low, close, volume,
                                        quote_volume, taker_buy_base_volume, taker_buy_quote_volume, trades)
        SELECT s, i, 'epoch'::timestamptz + o * interval '1 millisecond', 'epoch'::timestamptz + c * interval '1 millisecond',
               op::numeric, hi::numeric, lo::numeric, cl::numeric, vo::numeric, qv::numeric, tb::numeric, tq::numeric, tr
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])
             AS k(s, i, o, c, op, hi, lo, cl, vo, qv, tb, tq, tr)
        ON CONFLICT DO NOTHING
        """
    let bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) {}
}
