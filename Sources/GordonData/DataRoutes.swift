import GordonDomain
import GordonProtocol
import GordonExchange
public import GordonKernel
public import GordonPlatform
public import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// gordon-data's HTTP reads: klines in Binance's own JSON, so any Binance client pointed at
/// gordon-data reads Gordon's history unchanged.
///
/// - `/klines?symbol&interval&from&to&limit` and its Binance spelling
///   `/api/v3/klines?symbol&interval&startTime&endTime&limit`: open times in [from, to], at
///   most `limit` (default 500, at most 1000), from `from` on, else the newest;
/// - `/warmup?symbol&interval&bars=N`: the newest N closed klines, oldest first, for a bot's
///   indicator warm-up (N at most 5000);
/// - `/metrics/series?name&from&to&limit`: one alternative-data series (`fear_greed`,
///   `dvol_btc`, `funding_btc_perpetual`, `fred_dff`…) as `[{"time":ms,"value":"…","source":"…"}]`,
///   oldest first, chosen as for `/klines` (default 500, at most 5000).
///
/// Bad input is HTTP 400 with Binance's error body (`{"code":-1100,"msg":…}`) naming the
/// parameter; a database failure is 503.
public enum DataRoutes {
    /// Binance prints prices and volumes with 8 decimals.
    static let decimals = 8

    public static func register(on router: Router<ServiceRequestContext>, store: KlineStore, metrics: MetricStore) {
        router.get("/metrics/series") { request, _ in
            await respondJSON {
                let query = request.uri.queryParameters
                guard let text = query.get("name") else { throw BadRequest(code: -1102, message: "Mandatory parameter 'name' was not sent.") }
                guard let name = try? MetricName(text) else {
                    throw BadRequest(code: -1100, message: "Parameter 'name' must be a metric name such as fear_greed or dvol_btc.")
                }
                let limit = try integer(query, "limit", default: 500, range: 1...5000)
                return try await metrics.series(name: name, from: try time(query, "from", "startTime"), to: try time(query, "to", "endTime"),
                                                limit: limit)
            }
        }
        for path in ["/klines", "/api/v3/klines"] {
            router.get(RouterPath(path)) { request, _ in
                await respond {
                    let query = request.uri.queryParameters
                    let (symbol, interval) = try series(query)
                    let limit = try integer(query, "limit", default: 500, range: 1...1000)
                    let from = try time(query, "from", "startTime")
                    let to = try time(query, "to", "endTime")
                    return try await store.read(symbol: symbol, interval: interval, from: from, to: to, limit: limit)
                }
            }
        }
        router.get("/warmup") { request, _ in
            await respond {
                let query = request.uri.queryParameters
                let (symbol, interval) = try series(query)
                guard query.get("bars") != nil else { throw BadRequest(code: -1102, message: "Mandatory parameter 'bars' was not sent.") }
                let bars = try integer(query, "bars", default: 0, range: 1...5000)
                return try await store.read(symbol: symbol, interval: interval, from: nil, to: nil, limit: bars)
            }
        }
    }

    struct BadRequest: Error {
        let code: Int
        let message: String
    }

    private static func respond(_ read: () async throws -> [Kline]) async -> Response {
        await respondJSON { try await read().map { KlineRow($0, decimals: decimals) } }
    }

    private static func respondJSON(_ read: () async throws -> [some Encodable]) async -> Response {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // the same bytes for the same rows
            return json(.ok, try encoder.encode(try await read()))
        } catch let error as BadRequest {
            return json(.badRequest, Data(error.body.utf8))
        } catch {
            let text = (error as? GordonError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            var body = "{\"code\":-1000,\"msg\":"
            JSONStringLiteral.append("market data unavailable: " + text, to: &body)
            return json(.serviceUnavailable, Data((body + "}").utf8))
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func series(_ query: Parameters) throws -> (Symbol, Interval) {
        guard let symbolText = query.get("symbol") else { throw BadRequest(code: -1102, message: "Mandatory parameter 'symbol' was not sent.") }
        guard let symbol = try? Symbol(symbolText) else { throw BadRequest(code: -1121, message: "Invalid symbol.") }
        guard let intervalText = query.get("interval") else { throw BadRequest(code: -1102, message: "Mandatory parameter 'interval' was not sent.") }
        guard let interval = Interval(rawValue: intervalText) else { throw BadRequest(code: -1120, message: "Invalid interval.") }
        return (symbol, interval)
    }

    private static func integer(_ query: Parameters, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw BadRequest(code: -1100, message: "Parameter '\(name)' must be a whole number in \(range.lowerBound)...\(range.upperBound).")
        }
        return number
    }

    /// Milliseconds since the epoch, under either of two names.
    private static func time(_ query: Parameters, _ name: String, _ binanceName: String) throws -> Int64? {
        guard let text = query.get(name) ?? query.get(binanceName) else { return nil }
        // Up to 9999-12-31: PostgreSQL's interval arithmetic overflows long before Int64 does.
        guard let value = Int64(text), value >= 0 else {
            throw BadRequest(code: -1100, message: "Parameter '\(query.get(name) != nil ? name : binanceName)' must be milliseconds since the epoch.")
        }
        return min(value, 253_402_300_799_999)
    }
}

extension DataRoutes.BadRequest {
    var body: String {
        var text = "{\"code\":\(code),\"msg\":"
        JSONStringLiteral.append(message, to: &text)
        return text + "}"
    }
}
