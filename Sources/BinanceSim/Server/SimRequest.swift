import GordonExchange
public import GordonKernel

/// A REST request's parameters as Binance reads them: the query string followed by a
/// form-encoded body (`totalParams`), percent-decoded, in order.
struct SimParameters {
    private(set) var pairs: [(name: String, value: String)] = []
    /// The exact text the signature covers: `totalParams` without `&signature=…`.
    private(set) var signedPayload = ""
    private(set) var signature: String?

    init(query: String?, body: String?) {
        let query = query ?? ""
        let body = body ?? ""
        // Binance signs the query string concatenated with the body, with no separator.
        let total = query + body
        var payloadParts: [Substring] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) + body.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = SimParameters.percentDecoded(pieces[0])
            let value = pieces.count > 1 ? SimParameters.percentDecoded(pieces[1]) : ""
            if name == "signature" {
                signature = value
            } else {
                pairs.append((name, value))
                payloadParts.append(part)
            }
        }
        if signature == nil {
            signedPayload = total
        } else {
            // Re-join without the signature pair; clients put it last, as Binance's examples do.
            signedPayload = payloadParts.joined(separator: "&")
        }
    }

    subscript(name: String) -> String? {
        pairs.first(where: { $0.name == name })?.value
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                      let h = hexValue(high), let l = hexValue(low) {
                bytes.append(h << 4 | l)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// One API key the simulator accepts, with its HMAC secret.
public struct SimAPIKey: Sendable {
    public let apiKey: String
    let secretKey: Secret

    public init(apiKey: String, secretKey: Secret) {
        self.apiKey = apiKey
        self.secretKey = secretKey
    }

    /// Constant-time comparison of the expected signature with the one sent. The expected
    /// one comes from the client's `RequestSigner`, which is held to the worked example in
    /// Binance's documentation.
    func verifies(payload: String, signature: String) -> Bool {
        let want = Array(RequestSigner(secretKey: secretKey).signature(for: payload).utf8)
        let sent = Array(signature.lowercased().utf8)
        guard sent.count == want.count else { return false }
        var difference: UInt8 = 0
        for index in want.indices { difference |= sent[index] ^ want[index] }
        return difference == 0
    }
}
