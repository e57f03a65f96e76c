public import GordonKernel
public import NIOCore

/// Encodes what a client sends (PUB, HPUB, SUB, UNSUB, PING, PONG, CONNECT) into a buffer.
/// Pure functions over `ByteBuffer`, shared by the client and tests.
public enum NATSCommands {
    public static func publish(into buffer: inout ByteBuffer, subject: String, replyTo: String?,
                               headers: [UInt8]?, payload: some Collection<UInt8>) {
        if let headers {
            buffer.writeStaticString("HPUB ")
            buffer.writeString(subject)
            if let replyTo { buffer.writeInteger(UInt8(ascii: " ")); buffer.writeString(replyTo) }
            buffer.writeInteger(UInt8(ascii: " "))
            writeDecimal(headers.count, into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
            writeDecimal(headers.count + payload.count, into: &buffer)
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(headers)
        } else {
            buffer.writeStaticString("PUB ")
            buffer.writeString(subject)
            if let replyTo { buffer.writeInteger(UInt8(ascii: " ")); buffer.writeString(replyTo) }
            buffer.writeInteger(UInt8(ascii: " "))
            writeDecimal(payload.count, into: &buffer)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeBytes(payload)
        buffer.writeStaticString("\r\n")
    }

    public static func subscribe(into buffer: inout ByteBuffer, subject: String, queue: String?, sid: UInt64) {
        buffer.writeStaticString("SUB ")
        buffer.writeString(subject)
        if let queue { buffer.writeInteger(UInt8(ascii: " ")); buffer.writeString(queue) }
        buffer.writeInteger(UInt8(ascii: " "))
        writeDecimal(Int(sid), into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    public static func unsubscribe(into buffer: inout ByteBuffer, sid: UInt64, max: Int?) {
        buffer.writeStaticString("UNSUB ")
        writeDecimal(Int(sid), into: &buffer)
        if let max { buffer.writeInteger(UInt8(ascii: " ")); writeDecimal(max, into: &buffer) }
        buffer.writeStaticString("\r\n")
    }

    public static func ping(into buffer: inout ByteBuffer) { buffer.writeStaticString("PING\r\n") }
    public static func pong(into buffer: inout ByteBuffer) { buffer.writeStaticString("PONG\r\n") }

    public static func connect(into buffer: inout ByteBuffer, json: String) {
        buffer.writeStaticString("CONNECT ")
        buffer.writeString(json)
        buffer.writeStaticString("\r\n")
    }

    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 10 { buffer.writeInteger(UInt8(48 + value)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while remaining > 0 {
                raw[19 - count] = UInt8(48 + remaining % 10)
                remaining /= 10
                count += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
        }
    }

    // MARK: Subjects

    /// A subject a client may publish to: non-empty dot-separated tokens of printable bytes,
    /// no wildcards. Checked before anything reaches the wire, so a bad subject cannot
    /// corrupt the protocol stream.
    public static func validatePublishSubject(_ subject: String) throws(GordonError) {
        try validate(subject, wildcards: false)
    }

    /// A subject or filter a client may subscribe to: `*` as a whole token, `>` as the last.
    public static func validateSubscribeSubject(_ subject: String) throws(GordonError) {
        try validate(subject, wildcards: true)
    }

    public static func validateQueueGroup(_ queue: String) throws(GordonError) {
        guard !queue.isEmpty, queue.utf8.allSatisfy({ $0 > 32 && $0 != 127 }) else {
            throw GordonError(.natsInvalidSubject, "invalid queue group name", context: ["queue": String(queue.prefix(64))])
        }
    }

    private static func validate(_ subject: String, wildcards: Bool) throws(GordonError) {
        func fail(_ why: String) -> GordonError {
            GordonError(.natsInvalidSubject, "invalid subject: \(why)", context: ["subject": String(subject.prefix(128))])
        }
        var tokenLength = 0
        var tokenIsWildcard = false
        var sawFullWildcard = false
        for byte in subject.utf8 {
            if sawFullWildcard { throw fail("'>' must be the last token") }
            switch byte {
            case UInt8(ascii: "."):
                if tokenLength == 0 { throw fail("empty token") }
                tokenLength = 0
                tokenIsWildcard = false
            case 0...32, 127:
                throw fail("whitespace or control byte")
            case UInt8(ascii: "*"), UInt8(ascii: ">"):
                guard wildcards else { throw fail("wildcards cannot be published to") }
                if tokenLength != 0 { throw fail("a wildcard must be a whole token") }
                tokenLength = 1
                tokenIsWildcard = true
                if byte == UInt8(ascii: ">") { sawFullWildcard = true }
            default:
                if tokenIsWildcard { throw fail("a wildcard must be a whole token") }
                tokenLength += 1
            }
        }
        if tokenLength == 0 { throw fail(subject.isEmpty ? "empty subject" : "empty token") }
    }
}
