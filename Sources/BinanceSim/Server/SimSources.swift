import GordonDomain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The alternative data sources gordon-data polls besides Binance, served by the simulator in
/// their providers' own JSON so tests and the local stack run offline.
///
/// alternative.me's Fear & Greed index, `GET /fng/?limit=N` (alternative.me/crypto/fear-and-greed-index/,
/// "API"): the newest day first, values and timestamps (Unix seconds) as strings. The
/// simulated index follows the first symbol's market: 50 plus the percent change of its last
/// 24 published closes, times five, clamped to 0…100, one value per day of the feed.
struct FearAndGreedResponse: Encodable {
    struct Entry: Encodable {
        let value: String
        let value_classification: String
        let timestamp: String
        let time_until_update: String?
    }
    struct Metadata: Encodable {
        let error: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(error, forKey: .error)  // `null`, as the provider prints it
        }

        enum CodingKeys: String, CodingKey { case error }
    }
    var name = "Fear and Greed Index"
    let data: [Entry]
    let metadata: Metadata
}

extension BinanceSimulator {
    static let sourcePaths: Set<String> = [
        "/fng/", "/fng", "/fred/series/observations", "/api/v2/public/get_volatility_index_data",
        "/api/v2/public/get_funding_rate_history", "/api/v2/public/get_book_summary_by_instrument",
    ]

    /// One of the alternative data sources. The malformed-reply fault cuts any of them short.
    func source(path: String, _ p: SimParameters, now: Int64) -> SimHTTPResponse {
        if state.withLock({ $0.faults.malformedSourceReply() }) {
            return SimHTTPResponse(status: 200, headers: [], body: Array(#"{"name":"Fear and Greed Index","data":[{"value":"#.utf8))
        }
        switch path {
        case "/fred/series/observations": return fredObservations(p, now: now)
        case "/api/v2/public/get_volatility_index_data": return deribitVolatility(p, now: now)
        case "/api/v2/public/get_funding_rate_history": return deribitFunding(p, now: now)
        case "/api/v2/public/get_book_summary_by_instrument": return deribitBookSummary(p, now: now)
        default: return fearAndGreed(p, now: now)
        }
    }

    func fearAndGreed(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        let limit = max(1, min(Int(p["limit"] ?? "1") ?? 1, 365))
        let symbol = configuration.symbols.first?.symbol
        let klines = symbol.flatMap { symbol in state.withLock { $0.feed.klines(symbol: symbol, startTime: nil, endTime: nil, limit: 100_000) } } ?? []
        let day: Int64 = 86_400_000
        var entries: [FearAndGreedResponse.Entry] = []
        var end = klines.count
        while end > 0 && entries.count < limit {
            let dayStart = klines[end - 1].openTime.milliseconds / day * day
            let window = klines[max(0, end - 24)..<end].map(\.close.value.doubleApproximation)
            let change = window.count > 1 && window[0] > 0 ? (window[window.count - 1] / window[0] - 1) * 100 : 0
            let value = Int(max(0, min(100, (50 + change * 5).rounded())))
            entries.append(.init(value: String(value), value_classification: Self.classification(value), timestamp: String(dayStart / 1000),
                                 time_until_update: entries.isEmpty ? String((day - now % day) / 1000) : nil))  // to the next UTC midnight
            end = klines.firstIndex { $0.openTime.milliseconds >= dayStart } ?? 0
        }
        return ok(FearAndGreedResponse(data: entries, metadata: .init(error: nil)))
    }

    static func classification(_ value: Int) -> String {
        switch value {
        case ..<25: "Extreme Fear"
        case ..<47: "Fear"
        case ..<55: "Neutral"
        case ..<76: "Greed"
        default: "Extreme Greed"
        }
    }
}

// MARK: - Deribit

/// Deribit's public API v2 (docs.deribit.com) for the DVOL index, perpetual funding and open
/// interest, in its JSON-RPC envelope with JSON floats. Values are made up but stable: a
/// function of the series and the time, so asking twice gives the same answer, as Deribit's
/// history does.
struct DeribitReply<Result: Encodable>: Encodable {
    var jsonrpc = "2.0"
    let result: Result
    let usIn: Int64
    let usOut: Int64
    let usDiff: Int64
    var testnet = false
}

struct DeribitErrorReply: Encodable {
    struct Failure: Encodable {
        struct Detail: Encodable {
            let reason: String
            let param: String
        }
        let message: String
        let data: Detail
        let code: Int
    }
    var jsonrpc = "2.0"
    let error: Failure
    let usIn: Int64
    let usOut: Int64
    let usDiff: Int64
    var testnet = false
}

struct DeribitVolatilityResult: Encodable {
    let data: [[Double]]
    let continuation: Int64?
}

struct DeribitFundingRow: Encodable {
    let timestamp: Int64
    let index_price: Double
    let prev_index_price: Double
    let interest_8h: Double
    let interest_1h: Double
}

struct DeribitBookSummary: Encodable {
    let volume_usd: Double
    let volume: Double
    let quote_currency: String
    let price_change: Double
    let open_interest: Double
    let mid_price: Double
    let mark_price: Double
    let low: Double
    let last: Double
    let interest_rate: Double
    let instrument_name: String
    let high: Double
    let funding_8h: Double
    let current_funding: Double
    let creation_timestamp: Int64
    let bid_price: Double
    let base_currency: String
    let ask_price: Double
}

extension BinanceSimulator {
    static let deribitPerpetuals = ["BTC-PERPETUAL": 65_000.0, "ETH-PERPETUAL": 3_400.0]
    static let deribitCurrencies = ["BTC": 55.0, "ETH": 70.0]

    /// A number in [0, 1) fixed by the text and the time (SplitMix64 of FNV-1a).
    static func stableFraction(_ key: String, _ time: Int64) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var z = hash ^ UInt64(bitPattern: time) &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }

    /// The multiples of `step` in `[from, through]`, at most the last 10,000.
    static func grid(from: Int64, through: Int64, step: Int64) -> [Int64] {
        var times: [Int64] = []
        var time = (max(from, through - 10_000 * step) + step - 1) / step * step
        while time <= through {
            times.append(time)
            time += step
        }
        return times
    }

    private func deribit(_ result: some Encodable, now: Int64) -> SimHTTPResponse {
        ok(DeribitReply(result: result, usIn: now * 1000, usOut: now * 1000 + 150, usDiff: 150))
    }

    private func deribitInvalid(_ param: String, _ reason: String, now: Int64) -> SimHTTPResponse {
        SimHTTPResponse(status: 400, headers: [], body: json(DeribitErrorReply(
            error: .init(message: "Invalid params", data: .init(reason: reason, param: param), code: -32602),
            usIn: now * 1000, usOut: now * 1000 + 90, usDiff: 90)))
    }

    private func deribitWindow(_ p: SimParameters, now: Int64) -> (Int64, Int64)? {
        guard let start = p["start_timestamp"].flatMap({ Int64($0) }), let end = p["end_timestamp"].flatMap({ Int64($0) }), start <= end else {
            return nil
        }
        return (start, min(end, now))
    }

    /// Rows `[timestamp, open, high, low, close]` on the resolution's grid, at most 1000 (the
    /// newest; `continuation` is then where the next, older page ends).
    func deribitVolatility(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        guard let currency = p["currency"], let level = Self.deribitCurrencies[currency] else {
            return deribitInvalid("currency", "wrong format", now: now)
        }
        let resolutions: [String: Int64] = ["1": 1, "60": 60, "3600": 3600, "43200": 43_200, "1D": 86_400]
        guard let step = p["resolution"].flatMap({ resolutions[$0] }).map({ $0 * 1000 }) else {
            return deribitInvalid("resolution", "wrong format", now: now)
        }
        guard let (start, end) = deribitWindow(p, now: now) else { return deribitInvalid("start_timestamp", "wrong format", now: now) }
        var times = Self.grid(from: start, through: end, step: step)
        var continuation: Int64?
        if times.count > 1000 {
            times.removeFirst(times.count - 1000)
            continuation = times[0] - step
        }
        let rows = times.map { time -> [Double] in
            let close = ((level + 10 * Self.stableFraction("dvol" + currency, time)) * 100).rounded() / 100
            return [Double(time), close - 0.25, close + 0.5, close - 0.5, close]
        }
        return deribit(DeribitVolatilityResult(data: rows, continuation: continuation), now: now)
    }

    /// Hourly rows; rates are fractions of the order of 1e-5, so some print with an exponent.
    func deribitFunding(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        guard let instrument = p["instrument_name"], let price = Self.deribitPerpetuals[instrument] else {
            return deribitInvalid("instrument_name", "instrument not found", now: now)
        }
        guard let (start, end) = deribitWindow(p, now: now) else { return deribitInvalid("start_timestamp", "wrong format", now: now) }
        let hour: Int64 = 3_600_000
        let rows = Self.grid(from: start, through: end, step: hour).suffix(744).map { time in
            let rate = (Self.stableFraction("funding" + instrument, time) - 0.4) * 1e-4
            return DeribitFundingRow(timestamp: time, index_price: price, prev_index_price: price, interest_8h: rate, interest_1h: rate / 8)
        }
        return deribit(Array(rows), now: now)
    }

    /// The summary at this minute: open interest in USD, as Deribit counts it for perpetuals.
    func deribitBookSummary(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        guard let instrument = p["instrument_name"], let price = Self.deribitPerpetuals[instrument] else {
            return deribitInvalid("instrument_name", "instrument not found", now: now)
        }
        let minute = now / 60_000 * 60_000
        let openInterest = (5e8 + 1e7 * Self.stableFraction("oi" + instrument, minute)).rounded()
        let base = String(instrument.prefix { $0 != "-" })
        return deribit([DeribitBookSummary(
            volume_usd: 1.2e8, volume: 1.2e8 / price, quote_currency: "USD", price_change: 0.5, open_interest: openInterest,
            mid_price: price, mark_price: price, low: price * 0.98, last: price, interest_rate: 0, instrument_name: instrument,
            high: price * 1.02, funding_8h: 0.00001, current_funding: 0, creation_timestamp: minute, bid_price: price - 0.5,
            base_currency: base, ask_price: price + 0.5)], now: now)
    }
}

// MARK: - FRED

/// The St. Louis Fed's FRED API, `GET /fred/series/observations?series_id&api_key&file_type=json
/// &observation_start` (fred.stlouisfed.org/docs/api/fred/series_observations.html): values as
/// strings, "." for a day without one, errors as HTTP 400 `{"error_code":400,"error_message":…}`.
/// The key must look like FRED's (32 lower-case letters and digits); any such key is accepted.
struct FREDObservationsResponse: Encodable {
    struct Observation: Encodable {
        let realtime_start: String
        let realtime_end: String
        let date: String
        let value: String
    }
    let realtime_start: String
    let realtime_end: String
    let observation_start: String
    let observation_end: String
    var units = "lin"
    var output_type = 1
    var file_type = "json"
    var order_by = "observation_date"
    var sort_order = "asc"
    let count: Int
    var offset = 0
    var limit = 100_000
    let observations: [Observation]
}

struct FREDErrorResponse: Encodable {
    var error_code = 400
    let error_message: String
}

extension BinanceSimulator {
    /// Daily (every day), business-daily (weekdays, "." on the first weekday of a year) and
    /// monthly (the first of each month) series, ending yesterday.
    static let fredSeries: [String: (level: Double, cadence: FREDCadence)] = [
        "DFF": (5.33, .daily), "DGS10": (4.2, .businessDaily), "T10Y2Y": (-0.3, .businessDaily), "CPIAUCSL": (310.0, .monthly),
    ]

    enum FREDCadence { case daily, businessDaily, monthly }

    private func fredError(_ message: String) -> SimHTTPResponse {
        SimHTTPResponse(status: 400, headers: [], body: json(FREDErrorResponse(error_message: message)))
    }

    func fredObservations(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        guard let key = p["api_key"], !key.isEmpty else { return fredError("Bad Request.  Variable api_key has not been set.") }
        guard key.utf8.count == 32, key.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
            return fredError("Bad Request.  The value for variable api_key is not a 32 character alpha-numeric lower-case string.  "
                             + "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.")
        }
        guard p["file_type"] == "json" else { return fredError("Bad Request.  This simulator answers file_type=json only.") }
        guard let id = p["series_id"], let series = Self.fredSeries[id] else { return fredError("Bad Request.  The series does not exist.") }
        let today = CivilDate(daysSinceEpoch: now / CivilDate.millisecondsPerDay)
        let yesterday = today.daysSinceEpoch - 1
        var first = yesterday - 3650
        if let text = p["observation_start"] {
            guard let start = CivilDate(iso: text) else {
                return fredError("Bad Request.  Variable observation_start is not a valid date in YYYY-MM-DD format.")
            }
            first = max(first, start.daysSinceEpoch)
        }
        var observations: [FREDObservationsResponse.Observation] = []
        for day in stride(from: first, through: yesterday, by: 1) {
            let date = CivilDate(daysSinceEpoch: day)
            let weekday = (day + 3) % 7  // 0 = Monday: 1970-01-01 was a Thursday
            let value: String
            switch series.cadence {
            case .daily:
                value = format2(series.level + 0.05 * Self.stableFraction(id, day))
            case .businessDaily:
                guard weekday < 5 else { continue }
                let firstWeekdayOfYear = date.month == 1 && date.day <= 3 && (date.day == 1 || weekday == 0)
                value = firstWeekdayOfYear ? "." : format2(series.level + 0.3 * Self.stableFraction(id, day))
            case .monthly:
                guard date.day == 1 else { continue }
                value = format2(series.level + 0.01 * Double(day / 30 % 100) + Self.stableFraction(id, day))
            }
            observations.append(.init(realtime_start: today.description, realtime_end: today.description, date: date.description, value: value))
        }
        return ok(FREDObservationsResponse(
            realtime_start: today.description, realtime_end: today.description,
            observation_start: CivilDate(daysSinceEpoch: first).description, observation_end: "9999-12-31",
            count: observations.count, observations: observations))
    }

    /// Two decimals, as FRED prints rates.
    private func format2(_ value: Double) -> String {
        let cents = Int64((value * 100).rounded())
        let sign = cents < 0 ? "-" : ""
        let magnitude = Swift.abs(cents)
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
