import Foundation
import GordonDomain
import GordonExchange
import GordonKernel
import Testing

extension JSONValue {
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }
}

/// Where `actual` differs in shape from `expected`: a key missing or extra in any object
/// (recursively), an array of another length, or a value of another JSON kind.
func shapeDifferences(_ expected: JSONValue, _ actual: JSONValue, path: String = "$") -> [String] {
    switch (expected, actual) {
    case (.object(let lhs), .object(let rhs)):
        var differences: [String] = []
        let missing = Set(lhs.keys).subtracting(rhs.keys).sorted()
        let extra = Set(rhs.keys).subtracting(lhs.keys).sorted()
        if !missing.isEmpty { differences.append("\(path): missing keys \(missing)") }
        if !extra.isEmpty { differences.append("\(path): extra keys \(extra)") }
        for key in Set(lhs.keys).intersection(rhs.keys).sorted() {
            differences += shapeDifferences(lhs[key]!, rhs[key]!, path: "\(path).\(key)")
        }
        return differences
    case (.array(let lhs), .array(let rhs)):
        guard lhs.count == rhs.count else { return ["\(path): \(lhs.count) elements expected, \(rhs.count) written"] }
        return zip(lhs, rhs).enumerated().flatMap { shapeDifferences($0.element.0, $0.element.1, path: "\(path)[\($0.offset)]") }
    default:
        return expected.kind == actual.kind ? [] : ["\(path): \(expected.kind) expected, \(actual.kind) written"]
    }
}

enum Fixtures {
    static func bytes(_ name: String, filePath: String = #filePath) throws -> [UInt8] {
        let url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        return Array(try Data(contentsOf: url))
    }

    /// Decodes a fixture the way the client does, re-encodes it the way the simulator does,
    /// and checks the result has the fixture's key set and value kinds everywhere and, as
    /// the wire types keep Binance's text, the very same values.
    static func roundTrip<T: Codable>(_ type: T.Type, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
        let bytes = try Fixtures.bytes(name)
        let value = try BinanceJSON.decode(T.self, from: bytes, endpoint: "/fixture/\(name)")
        let original = try JSONValue.parse(bytes)
        let reencoded = try JSONValue.parse(try BinanceJSON.encode(value))
        let differences = shapeDifferences(original, reencoded)
        #expect(differences.isEmpty, "\(name): \(differences)", sourceLocation: sourceLocation)
        #expect(original == reencoded, "\(name) re-encoded to \(reencoded)", sourceLocation: sourceLocation)
        return value
    }
}

/// A literal decimal for expectations (test input is known to be valid).
func dec(_ text: String) -> GordonDomain.ExactDecimal {
    try! GordonDomain.ExactDecimal(parsing: text)
}
