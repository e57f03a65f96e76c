public import GordonKernel
import Crypto

/// Signs Binance `SIGNED` requests with an HMAC API key: HMAC-SHA256 of the payload under
/// the secret key, as lowercase hex (rest-api.md, "SIGNED Endpoint Examples", HMAC Keys).
///
/// The secret stays a `Secret` and is opened only for the length of one HMAC; the signer's
/// own description and mirror are redacted, so logging a signer or a value holding one
/// prints nothing secret.
public struct RequestSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let secretKey: Secret

    public init(secretKey: Secret) {
        self.secretKey = secretKey
    }

    /// The signature of exactly these bytes. Binance's payload is the query string followed,
    /// with no separator, by the request body; it must already be percent-encoded.
    public func signature(for payload: String) -> String {
        let code = secretKey.withPlainText { secret in
            HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        }
        return lowercaseHex(code)
    }

    /// `params` with `signature=` appended, computed over `params.encoded`. Add `timestamp`
    /// (and `recvWindow`) first: whatever is appended after signing is not covered.
    public func signed(_ params: QueryParameters) -> QueryParameters {
        var result = params
        result.append("signature", signature(for: params.encoded))
        return result
    }

    public var description: String { "RequestSigner(<redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

private func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
