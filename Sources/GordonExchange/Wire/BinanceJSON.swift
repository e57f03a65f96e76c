#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel

/// Decoding and encoding of REST bodies. A body that is not the documented JSON becomes
/// `exchangeMalformedResponse`, never a trap; the body itself is kept out of the error
/// (a listen key is a bearer token), only where decoding stopped is named.
public enum BinanceJSON {
    public static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], endpoint: String) throws(GordonError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw WireMapping.malformed("\(endpointPath(endpoint)) body is not the documented JSON: \(summary(of: error))",
                                        context: ["endpoint": endpointPath(endpoint), "type": "\(T.self)"],
                                        underlying: validationFailure(in: error))
        } catch {
            throw WireMapping.malformed("\(endpointPath(endpoint)) body could not be decoded",
                                        context: ["endpoint": endpointPath(endpoint), "type": "\(T.self)"])
        }
    }

    /// The JSON Binance would send for `value` (used by the simulator).
    public static func encode<T: Encodable>(_ value: T) throws(GordonError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw GordonError(.internalInvariant, "could not encode \(T.self) as JSON: \(error)")
        }
    }

    /// The path of a request target, without scheme, host, query string or fragment: the
    /// query of a signed request carries its `signature`, which must never reach a log.
    public static func endpointPath(_ endpoint: String) -> String {
        var path = Substring(endpoint)
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        if parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty {
            // scheme://host/path: keep "/path".
            path = Substring("/" + (parts.count == 4 ? String(path[parts[3].startIndex...]) : ""))
        }
        return String(path.prefix(200))
    }

    /// The domain error behind a `dataCorrupted` (a decimal that does not parse, say).
    private static func validationFailure(in error: DecodingError) -> GordonError? {
        guard case .dataCorrupted(let context) = error else { return nil }
        return context.underlyingError as? GordonError
    }

    /// Where decoding failed (`symbols[0].filters[2].tickSize: …`), without any values.
    private static func summary(of error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \(path(context.codingPath + [key]))"
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(path(context.codingPath))"
        case .valueNotFound(let type, let context):
            return "null where \(type) was expected at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            let reason = (context.underlyingError as? GordonError)?.message ?? "not valid JSON"
            return "\(reason) at \(path(context.codingPath))"
        @unknown default:
            return "undecodable"
        }
    }
}
