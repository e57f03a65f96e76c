import GordonKernel
@testable import GordonNATS
import NIOCore
import Testing

/// Everything a server can send, as one byte stream, and what it must parse to.
private let transcript = Array((
    #"INFO {"server_id":"S1","version":"2.9.10","max_payload":1048576,"headers":true,"jetstream":true,"connect_urls":["10.0.0.2:4222"]}"# + "\r\n"
    + "+OK\r\n"
    + "PING\r\n"
    + "PONG\r\n"
    + "MSG gordon.market.kline.BTCUSDT.1m 7 5\r\nhello\r\n"
    + "msg a.b 8 _INBOX.x.1 0\r\n\r\n"
    + "HMSG a.c 9 _INBOX.y 35 39\r\nNATS/1.0\r\nNats-Msg-Id: 42\r\nX: 1\r\n\r\nbody\r\n"
    + "HMSG _INBOX.z.3 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
    + "MSG bin 3 4\r\n\r\n\r\n\r\n"
    + "-ERR 'Permissions Violation for Publish to \"gordon.risk.command.all\"'\r\n"
).utf8)

private func parseAll(_ chunks: [[UInt8]]) throws -> [NATSServerOperation] {
    var parser = NATSParser()
    var operations: [NATSServerOperation] = []
    for chunk in chunks {
        parser.append(ByteBuffer(bytes: chunk))
        while let operation = try parser.next() { operations.append(operation) }
    }
    #expect(parser.bufferedBytes == 0)
    return operations
}

private func describe(_ operation: NATSServerOperation) -> String {
    switch operation {
    case .info(let info): "INFO \(info.serverId) \(info.maxPayload) \(info.jetStream) \(info.connectURLs)"
    case .ok: "+OK"
    case .ping: "PING"
    case .pong: "PONG"
    case .error(let text): "-ERR \(text)"
    case .message(let m):
        "MSG \(m.subject) \(m.sid) \(m.replyTo ?? "-") \(m.headers.map { "\($0.status.map(String.init) ?? "")\($0.fields.map { "\($0.name)=\($0.value)" })" } ?? "none") \(m.bytes)"
    }
}

private let expected = [
    "INFO S1 1048576 true [\"10.0.0.2:4222\"]",
    "+OK", "PING", "PONG",
    "MSG gordon.market.kline.BTCUSDT.1m 7 - none \(Array("hello".utf8))",
    "MSG a.b 8 _INBOX.x.1 none []",
    "MSG a.c 9 _INBOX.y [\"Nats-Msg-Id=42\", \"X=1\"] \(Array("body".utf8))",
    "MSG _INBOX.z.3 1 - 503[] []",
    "MSG bin 3 - none [13, 10, 13, 10]",
    "-ERR Permissions Violation for Publish to \"gordon.risk.command.all\"",
]

@Suite struct ParserTests {
    @Test func parsesEveryOperationInOneChunk() throws {
        #expect(try parseAll([transcript]).map(describe) == expected)
    }

    @Test func parsesTheSameWhateverTheSplitPoint() throws {
        for split in 1..<transcript.count {
            let operations = try parseAll([Array(transcript[..<split]), Array(transcript[split...])])
            #expect(operations.map(describe) == expected, "split at \(split)")
        }
    }

    @Test func parsesByteByByte() throws {
        #expect(try parseAll(transcript.map { [$0] }).map(describe) == expected)
    }

    @Test func controlLineLongerThanTheLimitIsAViolationNotAnUnboundedBuffer() {
        var parser = NATSParser(maxControlLine: 64)
        parser.append(ByteBuffer(bytes: Array(repeating: UInt8(ascii: "A"), count: 100)))
        #expect(throws: GordonError.self) { try parser.next() }
        // The parser stays failed and holds nothing.
        #expect(parser.bufferedBytes == 0)
        parser.append(ByteBuffer(string: "PING\r\n"))
        #expect(throws: GordonError.self) { try parser.next() }
    }

    @Test func messageLargerThanMaxPayloadIsRefusedBeforeItIsBuffered() {
        var parser = NATSParser(maxPayload: 1024)
        parser.append(ByteBuffer(string: "MSG a 1 4096\r\n"))
        let error = #expect(throws: GordonError.self) { try parser.next() }
        #expect(error?.code == .natsProtocolViolation)
    }

    @Test(arguments: [
        "FOO bar\r\n", "MSG a 1\r\n", "MSG a x 5\r\nhello\r\n", "MSG a 1 -5\r\n", "MSG a 1 5\r\nhelloXX",
        "HMSG a 1 10 5\r\n", "HMSG a 1 5 5\r\nhello\r\n", "HMSG a 1 2 2\r\nab\r\n", "PING x\r\n",
        "INFO {not json}\r\n", "INFO {\"max_payload\":0}\r\n", "PING\rX", "PING\n", "MSG a\u{01}b 1 0\r\n\r\n",
    ])
    func malformedInputIsATypedErrorNeverACrash(_ text: String) {
        var parser = NATSParser()
        parser.append(ByteBuffer(string: text))
        let error = #expect(throws: GordonError.self) { while try parser.next() != nil {} }
        #expect(error?.code == .natsProtocolViolation)
    }

    @Test func randomGarbageNeverCrashesTheParser() {
        var generator = SplitMix(seed: 0xC0FFEE)
        for _ in 0..<3000 {
            var parser = NATSParser(maxControlLine: 256, maxPayload: 4096)
            let length = Int(generator.next() % 300)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if generator.next() % 2 == 0 {  // mutate a valid transcript instead of pure noise
                bytes = transcript
                for _ in 0..<4 { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            }
            parser.append(ByteBuffer(bytes: bytes))
            var steps = 0
            while steps < 1000, (try? parser.next()) != nil { steps += 1 }
            #expect(steps < 1000)
        }
    }

    @Test func headersRoundTripAndRejectInjection() throws {
        var headers = NATSHeaders([("Nats-Msg-Id", "7"), ("Trace", "a b")])
        headers["nats-msg-id"] = "8"
        let encoded = try headers.encoded()
        let decoded = try NATSHeaders(parsing: encoded)
        #expect(decoded[NATSHeaders.messageId] == "8")
        #expect(decoded["TRACE"] == "a b")
        var bad = NATSHeaders()
        bad["X"] = "evil\r\nInjected: 1"
        #expect(throws: GordonError.self) { try bad.encoded() }
        #expect(throws: GordonError.self) { try NATSHeaders(parsing: Array("HTTP/1.1 200\r\n\r\n".utf8)) }
        let status = try NATSHeaders(parsing: Array("NATS/1.0 408 Request Timeout\r\n\r\n".utf8))
        #expect(status.status == 408 && status.statusDescription == "Request Timeout")
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
