import GordonKernel
@testable import GordonNATS
import NIOCore
import Testing

@Suite struct CommandTests {
    private func encode(_ body: (inout ByteBuffer) -> Void) -> String {
        var buffer = ByteBuffer()
        body(&buffer)
        return String(buffer: buffer)
    }

    @Test func encodesEveryClientOperationByteForByte() throws {
        #expect(encode { NATSCommands.publish(into: &$0, subject: "a.b", replyTo: nil, headers: nil, payload: Array("hi".utf8)) } == "PUB a.b 2\r\nhi\r\n")
        #expect(encode { NATSCommands.publish(into: &$0, subject: "a", replyTo: "r.1", headers: nil, payload: [UInt8]()) } == "PUB a r.1 0\r\n\r\n")
        let headers = try NATSHeaders([("Nats-Msg-Id", "9")]).encoded()
        #expect(encode { NATSCommands.publish(into: &$0, subject: "a", replyTo: nil, headers: headers, payload: Array("xy".utf8)) }
            == "HPUB a 28 30\r\nNATS/1.0\r\nNats-Msg-Id: 9\r\n\r\nxy\r\n")
        #expect(encode { NATSCommands.subscribe(into: &$0, subject: "a.*", queue: "workers", sid: 12) } == "SUB a.* workers 12\r\n")
        #expect(encode { NATSCommands.unsubscribe(into: &$0, sid: 12, max: 5) } == "UNSUB 12 5\r\n")
        #expect(encode { NATSCommands.unsubscribe(into: &$0, sid: 1234567890123, max: nil) } == "UNSUB 1234567890123\r\n")
        #expect(encode { NATSCommands.ping(into: &$0) } == "PING\r\n")
    }

    @Test(arguments: ["a", "a.b", "gordon.intent.bot-1", "_INBOX.x.y"])
    func acceptsPublishSubjects(_ subject: String) throws {
        try NATSCommands.validatePublishSubject(subject)
    }

    @Test(arguments: ["", ".", "a.", ".a", "a..b", "a b", "a\r\nPUB", "a.*", "a.>", "a\tb"])
    func refusesBadPublishSubjects(_ subject: String) {
        let error = #expect(throws: GordonError.self) { try NATSCommands.validatePublishSubject(subject) }
        #expect(error?.code == .natsInvalidSubject)
    }

    @Test func wildcardsOnlyAsWholeTokensAndFullWildcardLast() throws {
        try NATSCommands.validateSubscribeSubject("a.*.c")
        try NATSCommands.validateSubscribeSubject("a.>")
        try NATSCommands.validateSubscribeSubject(">")
        for bad in ["a.>.c", "a.b*", "a.*b", "a>", "a..*"] {
            #expect(throws: GordonError.self) { try NATSCommands.validateSubscribeSubject(bad) }
        }
    }

    @Test func parsesServerURLs() throws {
        let plain = try NATSServerAddress(url: "nats://127.0.0.1:4333")
        #expect(plain.host == "127.0.0.1" && plain.port == 4333 && !plain.tls)
        let secure = try NATSServerAddress(url: "tls://alice:s3cret@nats.local")
        #expect(secure.tls && secure.port == 4222 && secure.user == "alice")
        #expect(!secure.description.contains("s3cret"))
        let bare = try NATSServerAddress(url: "10.0.0.2:4222")  // the form of INFO connect_urls
        #expect(bare.host == "10.0.0.2" && bare.port == 4222)
        let v6 = try NATSServerAddress(url: "nats://[::1]:4223")
        #expect(v6.host == "::1" && v6.port == 4223)
        for bad in ["http://x:1", "nats://:4222", "nats://h:0", "nats://h:x"] {
            #expect(throws: GordonError.self) { try NATSServerAddress(url: bad) }
        }
    }

    @Test func reconnectDelayGrowsIsCappedAndJittered() {
        let policy = NATSReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(2), jitter: 0.5)
        #expect(policy.delay(attempt: 1, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(attempt: 3, random: 0.5) == .milliseconds(400))
        #expect(policy.delay(attempt: 30, random: 0.5) == .seconds(2))
        #expect(policy.delay(attempt: 1, random: 0) == .milliseconds(50))
        #expect(policy.delay(attempt: 1, random: 1) == .milliseconds(150))
    }

    @Test func connectJSONEscapesCredentials() {
        #expect(JSONStringLiteral.quoted("a\"b\\c\n\u{01}") == #""a\"b\\c\n\u0001""#)
    }
}
