import Crypto
public import GordonKernel

/// The console's credential on the manager's loopback port: `Authorization: Bearer <token>`.
///
/// The manager's keyfile holds only the token's SHA-256 (`console_token_sha256`), so the
/// manager cannot leak the console's credential; the console's own keyfile holds the token.
/// The console acts for its signed-in user, named in `X-Gordon-Operator`; the manager records
/// that name as `console.<name>` wherever it records an operator (a name risk's commands can
/// carry: at most 64 bytes of a-z, A-Z, 0-9, `.`, `_`, `-`, `@`).
public struct ConsoleCredential: Sendable {
    let digest: [UInt8]

    public init(hexDigest: Secret) throws(GordonError) {
        let bytes = hexDigest.withPlainText { Self.bytes(fromHex: $0) }
        guard let bytes, bytes.count == SHA256.byteCount else {
            throw GordonError(.keyfileMalformed, "\(Keyfile.consoleTokenSHA256) must be 64 hex digits (the SHA-256 of the console's token)")
        }
        digest = bytes
    }

    /// The hex SHA-256 of `token`, as the manager's keyfile holds it.
    public static func hexDigest(of token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// Whether `authorization` (the header's value) carries the console's token. Digests are
    /// compared, in full: the time taken says nothing about the token.
    public func admits(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let presented = Array(SHA256.hash(data: Array(authorization.utf8.dropFirst("Bearer ".utf8.count))))
        var difference: UInt8 = 0
        for (a, b) in zip(presented, digest) { difference |= a ^ b }
        return difference == 0 && presented.count == digest.count
    }

    /// The console's user, from `X-Gordon-Operator`, as an operator's name: `console.<user>`,
    /// the user being 1-56 of a-z, A-Z, 0-9, `.`, `_`, `-`, `@` (a login or an e-mail address).
    public static func operatorName(_ header: String?) throws(GordonError) -> String {
        guard let header else {
            throw GordonError(.invalidRequest, "the console must name its user in X-Gordon-Operator")
        }
        let allowed = header.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x40
        }
        guard (1...56).contains(header.utf8.count), allowed else {
            throw GordonError(.invalidRequest, "X-Gordon-Operator must be 1-56 of a-z, A-Z, 0-9, '.', '_', '-', '@'")
        }
        return "console." + header
    }

    static func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case 0x30...0x39: digit - 0x30
            case 0x61...0x66: digit - 0x61 + 10
            case 0x41...0x46: digit - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
