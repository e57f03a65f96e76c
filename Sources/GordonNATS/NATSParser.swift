public import GordonKernel
public import NIOCore

/// Turns the bytes a NATS server sends into `NATSServerOperation`s, as a plain value.
///
/// Sans-I/O: the channel handler appends what the socket read and drains `next()`; tests
/// feed bytes split at every boundary. Memory is bounded: a control line longer than
/// `maxControlLine` or a message larger than `maxPayload` is a protocol violation, and after
/// any violation the parser stays failed so the connection is closed rather than resynced
/// on garbage.
public struct NATSParser: Sendable {
    public var maxControlLine: Int
    public var maxPayload: Int

    private var buffer: ByteBuffer
    private var pending: PendingMessage?
    private var failure: GordonError?

    private struct PendingMessage {
        var subject: String
        var sid: UInt64
        var replyTo: String?
        var headerBytes: Int
        var totalBytes: Int
    }

    public init(maxControlLine: Int = 4096, maxPayload: Int = 8 * 1_048_576) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
        self.buffer = ByteBuffer()
    }

    /// Bytes received but not yet turned into operations.
    public var bufferedBytes: Int { buffer.readableBytes }

    public mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = bytes  // the common case: no leftover, so no copy
        } else {
            if buffer.readerIndex > 65_536 { buffer.discardReadBytes() }
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if buffer.readerIndex > 65_536 { buffer.discardReadBytes() }
        buffer.writeBytes(bytes)
    }

    /// The next complete operation, or nil when more bytes are needed.
    public mutating func next() throws(GordonError) -> NATSServerOperation? {
        if let failure { throw failure }
        do {
            return try parseNext()
        } catch {
            failure = error
            buffer.clear()
            pending = nil
            throw error
        }
    }

    private mutating func parseNext() throws(GordonError) -> NATSServerOperation? {
        if let message = pending {
            return try readPayload(message)
        }
        guard let lineLength = try controlLineLength() else { return nil }
        let line = buffer.readSlice(length: lineLength)!
        buffer.moveReaderIndex(forwardBy: 2)
        return try parseControlLine(line)
    }

    /// Length of the control line at the reader index (without CRLF), or nil if incomplete.
    private func controlLineLength() throws(GordonError) -> Int? {
        let view = buffer.readableBytesView
        let limit = min(view.count, maxControlLine + 2)
        var index = view.startIndex
        let end = view.startIndex + limit
        while index < end {
            if view[index] == 13 {
                guard index + 1 < view.endIndex else { return nil }
                guard view[index + 1] == 10 else { throw Self.violation("CR without LF in a control line") }
                return index - view.startIndex
            }
            if view[index] == 10 { throw Self.violation("LF without CR in a control line") }
            index += 1
        }
        if view.count > maxControlLine {
            throw Self.violation("control line exceeds \(maxControlLine) bytes")
        }
        return nil
    }

    private mutating func parseControlLine(_ line: ByteBuffer) throws(GordonError) -> NATSServerOperation? {
        let bytes = line.readableBytesView
        let opEnd = bytes.firstIndex { $0 == 32 || $0 == 9 } ?? bytes.endIndex
        let op = Self.upper(bytes[bytes.startIndex..<opEnd])
        let rest = bytes[opEnd...].drop { $0 == 32 || $0 == 9 }
        switch op {
        case "MSG":
            let args = Self.split(rest)
            guard args.count == 3 || args.count == 4 else { throw Self.violation("MSG needs 3 or 4 arguments") }
            let size = try Self.number(args[args.count - 1], "MSG size")
            try checkSize(size)
            pending = PendingMessage(subject: try Self.subject(args[0]), sid: try Self.sid(args[1]),
                                     replyTo: args.count == 4 ? try Self.subject(args[2]) : nil,
                                     headerBytes: 0, totalBytes: size)
            return try readPayload(pending!)
        case "HMSG":
            let args = Self.split(rest)
            guard args.count == 4 || args.count == 5 else { throw Self.violation("HMSG needs 4 or 5 arguments") }
            let headerSize = try Self.number(args[args.count - 2], "HMSG header size")
            let size = try Self.number(args[args.count - 1], "HMSG total size")
            guard headerSize <= size else { throw Self.violation("HMSG header size exceeds total size") }
            try checkSize(size)
            pending = PendingMessage(subject: try Self.subject(args[0]), sid: try Self.sid(args[1]),
                                     replyTo: args.count == 5 ? try Self.subject(args[2]) : nil,
                                     headerBytes: headerSize, totalBytes: size)
            return try readPayload(pending!)
        case "PING":
            guard rest.isEmpty else { throw Self.violation("PING takes no arguments") }
            return .ping
        case "PONG":
            guard rest.isEmpty else { throw Self.violation("PONG takes no arguments") }
            return .pong
        case "+OK":
            return .ok
        case "-ERR":
            var text = String(decoding: rest, as: UTF8.self)
            if text.hasPrefix("'") && text.hasSuffix("'") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
            return .error(text)
        case "INFO":
            return .info(try NATSServerInfo(json: rest))
        default:
            throw Self.violation("unknown operation \(String(op.prefix(16)))")
        }
    }

    private func checkSize(_ size: Int) throws(GordonError) {
        if size > maxPayload { throw Self.violation("message of \(size) bytes exceeds the \(maxPayload)-byte limit") }
    }

    private mutating func readPayload(_ message: PendingMessage) throws(GordonError) -> NATSServerOperation? {
        guard buffer.readableBytes >= message.totalBytes + 2 else { return nil }
        var headers: NATSHeaders?
        if message.headerBytes > 0 {
            let headerSlice = buffer.readSlice(length: message.headerBytes)!
            headers = try NATSHeaders(parsing: headerSlice.readableBytesView)
        }
        let payload = buffer.readSlice(length: message.totalBytes - message.headerBytes)!
        guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Self.violation("message payload not followed by CRLF") }
        pending = nil
        return .message(NATSMessage(subject: message.subject, sid: message.sid, replyTo: message.replyTo,
                                    headers: headers, payload: payload))
    }

    // MARK: Tokens

    private static func violation(_ message: String) -> GordonError {
        GordonError(.natsProtocolViolation, "NATS protocol violation: \(message)")
    }

    private static func upper(_ bytes: some Collection<UInt8>) -> String {
        guard bytes.count <= 8 else { return String(decoding: bytes.prefix(8), as: UTF8.self) }
        return String(decoding: bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
    }

    private static func split<C: Collection<UInt8>>(_ bytes: C) -> [C.SubSequence] {
        bytes.split(whereSeparator: { $0 == 32 || $0 == 9 })
    }

    private static func number(_ bytes: some Collection<UInt8>, _ what: String) throws(GordonError) -> Int {
        guard !bytes.isEmpty, bytes.count <= 12 else { throw violation("\(what) is not a number") }
        var value = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 57 else { throw violation("\(what) is not a number") }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    private static func sid(_ bytes: some Collection<UInt8>) throws(GordonError) -> UInt64 {
        UInt64(try number(bytes, "subscription id"))
    }

    private static func subject(_ bytes: some Collection<UInt8>) throws(GordonError) -> String {
        guard bytes.allSatisfy({ $0 > 32 && $0 != 127 }) else { throw violation("subject contains a control byte") }
        return String(decoding: bytes, as: UTF8.self)
    }
}
