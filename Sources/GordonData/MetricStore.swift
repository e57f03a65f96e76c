public import GordonDomain
public import GordonKernel
import GordonPostgres
public import GordonProtocol
public import Logging
public import PostgresNIO

/// `market_data.metrics` and the typed tables beside it (`macro_series`, `funding_rates`,
/// `open_interest`) as gordon-data sees them: INSERT on the tables, SELECT on the reader views.
/// A stored observation is final: a second insert of the same key is skipped.
public struct MetricStore: Sendable {
    public let database: PostgresClient
    public let logger: Logger

    public init(database: PostgresClient, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Of these observations, the keys already stored, each with whether it was stored within
    /// `recent` (and so may not have been published yet when gordon-data last stopped).
    public func stored(_ observations: [MetricObservation], recent: Duration) async throws(GordonError) -> [MetricKey: Bool] {
        guard !observations.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(observations.map(\.name.rawValue))
        binds.append(observations.map(\.observedAt.milliseconds))
        binds.append(recent.nanoseconds / 1_000_000)
        var stored: [MetricKey: Bool] = [:]
        do {
            let rows = try await database.query(PostgresQuery(unsafeSQL: """
                SELECT m.name, (extract(epoch FROM m.observed_at) * 1000)::bigint, m.ingested_at > now() - $3 * interval '1 millisecond'
                FROM market_data.v_metrics_reader m
                JOIN unnest($1::text[], $2::bigint[]) AS k(n, t)
                  ON m.name = k.n AND m.observed_at = 'epoch'::timestamptz + k.t * interval '1 millisecond'
                """, binds: binds), logger: logger)
            for try await (name, time, isRecent) in rows.decode((String, Int64, Bool).self) {
                stored[MetricKey(name: name, time: time)] = isRecent
            }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read stored metrics", "first": observations[0].name.rawValue])
        }
        return stored
    }

    /// Stores every observation in `market_data.metrics` and, by its record, in its typed
    /// table: one statement, so either all of it is stored or none. Keys already stored are
    /// skipped.
    public func insert(_ observations: [MetricObservation]) async throws(GordonError) {
        guard !observations.isEmpty else { return }
        var macro: [(MetricObservation, String, String)] = []
        var funding: [(MetricObservation, String, String)] = []
        var openInterest: [(MetricObservation, String, String, ExactDecimal?)] = []
        for observation in observations {
            switch observation.record {
            case .series: break
            case .macro(let series, let date): macro.append((observation, series, date))
            case .funding(let venue, let instrument): funding.append((observation, venue, instrument))
            case .openInterest(let venue, let instrument, let usd): openInterest.append((observation, venue, instrument, usd))
            }
        }
        var binds = PostgresBindings()
        binds.append(observations.map(\.name.rawValue))
        binds.append(observations.map(\.observedAt.milliseconds))
        binds.append(observations.map(\.value.description))
        binds.append(observations.map(\.source))
        binds.append(macro.map(\.1))
        binds.append(macro.map(\.2))
        binds.append(macro.map(\.0.value.description))
        binds.append(macro.map(\.0.source))
        binds.append(funding.map(\.1))
        binds.append(funding.map(\.2))
        binds.append(funding.map(\.0.observedAt.milliseconds))
        binds.append(funding.map(\.0.value.description))
        binds.append(openInterest.map(\.1))
        binds.append(openInterest.map(\.2))
        binds.append(openInterest.map(\.0.observedAt.milliseconds))
        binds.append(openInterest.map(\.0.value.description))
        binds.append(openInterest.map { $0.3?.description ?? "" })  // '' for unknown: arrays of optionals do not bind
        // Data-modifying CTEs run as one statement: atomic without a transaction block. ON
        // CONFLICT names no target because inferring one needs SELECT on the table.
        let sql = """
            WITH macro AS (
                INSERT INTO market_data.macro_series (series_id, observation_date, value, source)
                SELECT s, d::date, v::numeric, src FROM unnest($5::text[], $6::text[], $7::text[], $8::text[]) AS x(s, d, v, src)
                ON CONFLICT DO NOTHING
            ), funding AS (
                INSERT INTO market_data.funding_rates (venue, instrument, funding_time, rate)
                SELECT ve, i, 'epoch'::timestamptz + t * interval '1 millisecond', r::numeric
                FROM unnest($9::text[], $10::text[], $11::bigint[], $12::text[]) AS x(ve, i, t, r)
                ON CONFLICT DO NOTHING
            ), open_interest AS (
                INSERT INTO market_data.open_interest (venue, instrument, observed_at, open_interest, open_interest_usd)
                SELECT ve, i, 'epoch'::timestamptz + t * interval '1 millisecond', oi::numeric, NULLIF(usd, '')::numeric
                FROM unnest($13::text[], $14::text[], $15::bigint[], $16::text[], $17::text[]) AS x(ve, i, t, oi, usd)
                ON CONFLICT DO NOTHING
            )
            INSERT INTO market_data.metrics (name, observed_at, value, source)
            SELECT n, 'epoch'::timestamptz + t * interval '1 millisecond', v::numeric, s
            FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS m(n, t, v, s)
            ON CONFLICT DO NOTHING
            """
        do {
            try await database.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "insert metrics", "first": observations[0].name.rawValue])
        }
    }

    /// Points of one series stored within `within` of now, oldest first.
    public func recent(name: MetricName, within: Duration) async throws(GordonError) -> [MetricPoint] {
        var binds = PostgresBindings()
        binds.append(name.rawValue)
        binds.append(within.nanoseconds / 1_000_000)
        var points: [MetricPoint] = []
        do {
            let rows = try await database.query(PostgresQuery(unsafeSQL: """
                SELECT (extract(epoch FROM observed_at) * 1000)::bigint, value::text, source FROM market_data.v_metrics_reader
                WHERE name = $1 AND ingested_at > now() - $2 * interval '1 millisecond'
                ORDER BY observed_at
                """, binds: binds), logger: logger)
            for try await (time, value, source) in rows.decode((Int64, String, String).self) {
                points.append(MetricPoint(time: time, value: try ExactDecimal(parsing: value), source: source))
            }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read recent metrics", "name": name.rawValue])
        }
        return points
    }

    /// Points of one series with observation times in `[from, to]`, oldest first: the first
    /// `limit` from `from` on, or the newest `limit` when `from` is nil.
    public func series(name: MetricName, from: Int64?, to: Int64?, limit: Int) async throws(GordonError) -> [MetricPoint] {
        var binds = PostgresBindings()
        binds.append(name.rawValue)
        binds.append(from ?? -62_135_596_800_000)  // 0001-01-01: FRED's series reach back before 1970
        binds.append(to ?? 253_402_300_799_999)  // 9999-12-31
        binds.append(limit)
        let order = from == nil ? "DESC" : "ASC"
        var points: [MetricPoint] = []
        do {
            let rows = try await database.query(PostgresQuery(unsafeSQL: """
                SELECT (extract(epoch FROM observed_at) * 1000)::bigint, value::text, source FROM market_data.v_metrics_reader
                WHERE name = $1
                  AND observed_at BETWEEN 'epoch'::timestamptz + $2 * interval '1 millisecond'
                                      AND 'epoch'::timestamptz + $3 * interval '1 millisecond'
                ORDER BY observed_at \(order) LIMIT $4
                """, binds: binds), logger: logger)
            for try await (time, value, source) in rows.decode((Int64, String, String).self) {
                points.append(MetricPoint(time: time, value: try ExactDecimal(parsing: value), source: source))
            }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read metric series", "name": name.rawValue])
        }
        return from == nil ? points.reversed() : points
    }
}

/// A stored observation's key.
public struct MetricKey: Sendable, Hashable {
    public let name: String
    public let time: Int64

    public init(name: String, time: Int64) {
        self.name = name
        self.time = time
    }

    public init(_ observation: MetricObservation) {
        self.init(name: observation.name.rawValue, time: observation.observedAt.milliseconds)
    }
}

/// One point of a series as `/metrics/series` serves it.
public struct MetricPoint: Sendable, Hashable, Encodable {
    public let time: Int64
    public let value: ExactDecimal
    public let source: String
}
