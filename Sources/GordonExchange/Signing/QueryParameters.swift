/// Request parameters in the order they were added, as Binance signs and reads them.
///
/// Order matters: a signature covers the exact bytes sent, so the string that is signed and
/// the string that is sent must be the same one, built once, from `encoded`.
public struct QueryParameters: Sendable, Hashable, CustomStringConvertible {
    /// One `name=value` pair, unencoded.
    public struct Parameter: Sendable, Hashable {
        public let name: String
        public let value: String
    }

    public private(set) var parameters: [Parameter] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        parameters = pairs.map { Parameter(name: $0.0, value: $0.1) }
    }

    public mutating func append(_ name: String, _ value: String) {
        parameters.append(Parameter(name: name, value: value))
    }

    /// The value of the first parameter with this name.
    public subscript(name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    public var isEmpty: Bool { parameters.isEmpty }

    /// `application/x-www-form-urlencoded` in insertion order: `name=value` joined by `&`,
    /// every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) written as `%XX`
    /// of its UTF-8 encoding.
    ///
    /// Binance's rule (rest-api.md, "SIGNED Endpoint Examples", HMAC Keys): "Any non-ASCII
    /// character must be percent-encoded before signing", and the signature covers the
    /// percent-encoded payload (`symbol=%EF%BC%91…` in its second example). Encoding the
    /// reserved ASCII characters as well (space, `&`, `=`, `+`, `:`, `/`) keeps a value from
    /// ever being read as a separator; the server checks the signature against these same
    /// bytes, so the two cannot disagree.
    public var encoded: String {
        parameters.map { percentEncoded($0.name) + "=" + percentEncoded($0.value) }.joined(separator: "&")
    }

    public var description: String { encoded }
}

private func percentEncoded(_ text: String) -> String {
    let hexDigits = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
        if isUnreserved(byte) {
            bytes.append(byte)
        } else {
            bytes.append(UInt8(ascii: "%"))
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0F)])
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}
