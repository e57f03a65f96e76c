/// The expectation side of the permission matrix: does an allow list admit a subject?
///
/// Written independently of `NATSPermissions` so the matrix compares the server with a
/// second opinion, not with itself. It follows nats-server 2.9's rule: the subject's tokens
/// are literals, even `*` and `>`, matched against the pattern (`*` any one token, `>`
/// one or more at the end). So a subject carrying wildcards (a wildcard subscription, or a
/// consumer-create subject with a wildcard filter) passes a pattern whose wildcards cover
/// its wildcard tokens: `gordon.intent.>` passes `gordon.intent.*`, because the server
/// checks the token `>` against `*`, not the set of subjects `>` stands for.
enum SubjectMatcher {
    static func matches(pattern: String, subject: String) -> Bool {
        let patternTokens = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let subjectTokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        guard !subjectTokens.contains(where: \.isEmpty) else { return false }
        for (index, token) in patternTokens.enumerated() {
            if token == ">" { return subjectTokens.count > index }
            guard index < subjectTokens.count else { return false }
            if token != "*", token != subjectTokens[index] { return false }
        }
        return patternTokens.count == subjectTokens.count
    }

    /// nats-server default-deny: with an allow list present, allowed iff some entry matches.
    static func allowed(_ subject: String, by allowList: [String]) -> Bool {
        allowList.contains { matches(pattern: $0, subject: subject) }
    }
}
