public import GordonDomain
public import GordonKernel
public import GordonProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One FRED economic series (St. Louis Fed; DFF, DGS10, CPIAUCSL…):
/// `GET /fred/series/observations?series_id&api_key&file_type=json&observation_start=YYYY-MM-DD`,
/// answered as `{…, "observations":[{"realtime_start","realtime_end","date":"2024-01-02","value":"5.33"}]}`
/// with values as strings and `"."` for a day without a value (skipped, not an error). An
/// error is HTTP 400 with `{"error_code":400,"error_message":"…"}`.
///
/// The API key is gordon-data's keyfile value `fred_api_key`: it goes in the query only, and
/// what logs and errors show of the request has it masked.
public struct FREDSource: MetricSource {
    public let seriesId: String
    public let name = "fred"
    public let pollInterval: Duration
    /// Days before today asked for each time: monthly series publish weeks late, and
    /// revisions inside the window are not taken (a stored day is final, as for klines).
    public let lookbackDays: Int64
    public let metric: MetricName
    let apiKey: Secret

    public init(seriesId: String, apiKey: Secret, pollInterval: Duration = .seconds(6 * 3600), lookbackDays: Int64 = 120) throws(GordonError) {
        guard !seriesId.isEmpty, seriesId.utf8.count <= 64,
              seriesId.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }) else {
            throw GordonError(.serviceConfigInvalid, "a FRED series id is letters, digits and '_' (DFF, DGS10, CPIAUCSL)",
                              context: ["series": String(seriesId.prefix(64))])
        }
        self.seriesId = seriesId.uppercased()
        self.apiKey = apiKey
        self.pollInterval = pollInterval
        self.lookbackDays = lookbackDays
        self.metric = try MetricName("fred_" + seriesId.lowercased())
    }

    public var id: String { metric.rawValue }
    public var unit: String? { nil }  // FRED's units are per series (percent, index…): not guessed

    public func request(now: Timestamp) -> SourceRequest {
        let start = CivilDate(daysSinceEpoch: now.milliseconds / CivilDate.millisecondsPerDay - lookbackDays)
        let key = apiKey.withPlainText { String($0) }
        return SourceRequest(path: "/fred/series/observations?series_id=\(seriesId)&api_key=\(key)&file_type=json&observation_start=\(start)",
                             secrets: [key])
    }

    struct Body: Decodable {
        struct Observation: Decodable {
            let date: String
            let value: String
        }
        let observations: [Observation]
    }

    struct Failure: Decodable {
        let error_code: Int
        let error_message: String
    }

    public func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation] {
        guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)) else { throw unreadable("series observations", body) }
        var observations: [MetricObservation] = []
        for entry in parsed.observations {
            guard let date = CivilDate(iso: entry.date) else { throw outOfRange("an observation date that is not YYYY-MM-DD", ["date": String(entry.date.prefix(32))]) }
            if entry.value == "." { continue }
            guard let value = try? ExactDecimal(parsing: entry.value) else {
                throw outOfRange("an observation value that is not a number", ["date": entry.date, "value": String(entry.value.prefix(32))])
            }
            observations.append(MetricObservation(name: metric, observedAt: Timestamp(milliseconds: date.startMilliseconds), value: value,
                                                  source: name, record: .macro(seriesId: seriesId, date: date.description)))
        }
        return observations
    }

    public func errorMessage(_ body: [UInt8]) -> String? {
        (try? JSONDecoder().decode(Failure.self, from: Data(body))).map { "\($0.error_code) \($0.error_message.prefix(160))" }
    }
}
