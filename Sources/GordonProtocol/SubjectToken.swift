import GordonKernel

/// The rules every subject token obeys, whatever it names.
///
/// NATS splits subjects on `.`, treats `*` and `>` as wildcards and cannot carry
/// whitespace; Gordon also refuses control and non-ASCII bytes so that a subject is a
/// plain, loggable key. A token breaking these rules would publish to, or subscribe to,
/// something other than what its author meant.
enum SubjectToken {
    /// The longest subject Gordon builds is far below this; anything longer is hostile.
    static let maxSubjectBytes = 256

    /// Why `token` is not a plain token, or nil when it is one.
    static func problem(_ token: some StringProtocol) -> String? {
        if token.utf8.isEmpty { return "empty token" }
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: ">"): return "wildcard character in a token"
            case UInt8(ascii: "."): return "'.' inside a token"
            case 0x00...0x20, 0x7F: return "whitespace or control character in a token"
            case 0x80...0xFF: return "non-ASCII byte in a token"
            default: continue
            }
        }
        return nil
    }

    static func check(_ token: some StringProtocol, in subject: some StringProtocol) throws(GordonError) {
        if let problem = problem(token) {
            throw error(problem, token: token, subject: subject)
        }
    }

    static func error(_ message: String, token: some StringProtocol, subject: some StringProtocol, underlying: GordonError? = nil) -> GordonError {
        GordonError(.invalidSubject, message,
                    context: ["token": Text.quoted(token), "subject": Text.quoted(subject, limit: SubjectToken.maxSubjectBytes)],
                    underlying: underlying)
    }

    /// Splits a whole subject or filter, refusing empty and oversized input up front.
    static func split(_ subject: String) throws(GordonError) -> [Substring] {
        guard !subject.isEmpty else { throw error("empty subject", token: "", subject: subject) }
        guard subject.utf8.count <= maxSubjectBytes else {
            throw error("subject longer than \(maxSubjectBytes) bytes", token: subject.prefix(32), subject: subject)
        }
        return subject.split(separator: ".", omittingEmptySubsequences: false)
    }
}
