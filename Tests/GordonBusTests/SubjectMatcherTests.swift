import Testing

@Suite("SubjectMatcher: the expectation of the permission matrix")
struct SubjectMatcherTests {
    @Test("literal patterns match only themselves")
    func literals() {
        #expect(SubjectMatcher.matches(pattern: "gordon.intent.b1", subject: "gordon.intent.b1"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.b1", subject: "gordon.intent.b2"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.b1", subject: "gordon.intent.b1.x"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.b1", subject: "gordon.intent"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.b1", subject: "gordon.intent.b10"))
    }

    @Test("* matches exactly one token, anywhere")
    func star() {
        #expect(SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.intent.b1"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.intent"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.intent.b1.x"))
        #expect(SubjectMatcher.matches(pattern: "gordon.*.order.b1", subject: "gordon.exec.order.b1"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.*.order.b1", subject: "gordon.exec.fill.b1"))
    }

    @Test("> matches one or more trailing tokens, never zero")
    func fullWildcard() {
        #expect(SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.market.kline.BTCUSDT.1m"))
        #expect(SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.market.metric"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.market"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.marketing.x"))
        #expect(SubjectMatcher.matches(pattern: ">", subject: "_INBOX.x"))
        #expect(SubjectMatcher.matches(pattern: "$JS.ACK.GORDON.d.>", subject: "$JS.ACK.GORDON.d.1.1.1.1700000000000000000.0"))
        #expect(!SubjectMatcher.matches(pattern: "$JS.ACK.GORDON.d.>", subject: "$JS.ACK.GORDON.e.1"))
    }

    @Test("wildcards in the subject are literal tokens, as nats-server checks them")
    func wildcardSubjects() {
        #expect(SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.market.>"))
        #expect(SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.market.kline.*"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.market.>", subject: "gordon.>"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.exec.order.b1", subject: "gordon.exec.order.*"))
        // The token `>` is one token, so `*` admits it: wider than the pattern means.
        #expect(SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.intent.>"))
        #expect(SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.intent.*"))
        #expect(!SubjectMatcher.matches(pattern: "gordon.intent.*", subject: "gordon.*.b1"))
    }

    @Test("subjects with empty tokens match nothing")
    func emptyTokens() {
        #expect(!SubjectMatcher.matches(pattern: ">", subject: "gordon..x"))
        #expect(!SubjectMatcher.matches(pattern: ">", subject: ""))
        #expect(!SubjectMatcher.matches(pattern: "gordon.>", subject: "gordon."))
    }

    @Test("an allow list admits a subject iff one entry matches")
    func allowList() {
        let allow = ["gordon.intent.b1", "_INBOX_gordon-bot-b1.>"]
        #expect(SubjectMatcher.allowed("gordon.intent.b1", by: allow))
        #expect(SubjectMatcher.allowed("_INBOX_gordon-bot-b1.abc.1", by: allow))
        #expect(!SubjectMatcher.allowed("_INBOX_gordon-bot-b2.abc.1", by: allow))
        #expect(!SubjectMatcher.allowed("_INBOX.abc", by: allow))
        #expect(!SubjectMatcher.allowed("gordon.intent.b1", by: []))
    }
}
